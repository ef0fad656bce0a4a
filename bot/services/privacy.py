"""Erasing a supporter: everything the bot holds about them, in one transaction."""

from __future__ import annotations

from bot.storage import Storage


async def forget(storage: Storage, user_id: int) -> None:
    """Delete the user and every row that names them.

    Confirmations lose their link (ON DELETE SET NULL) so the counts stay; interest and
    outbox rows go with the user (ON DELETE CASCADE); drafts, remembered details and
    conversation states are deleted here.
    """
    async with storage.db.transaction():
        await storage.users.delete(user_id)
        await storage.conversations.drop_user_data(user_id)
        await storage.conversations.forget_conversations(user_id)
