"""Who may steer the bot in a group: the group's own admins, as Telegram says at the time.

One place for the check, so /session, /session_end and a group's /language agree. Telegram
is asked each time (``getChatMember``) rather than a list kept here: admins change, and a
stale list would let a demoted admin start sessions. Group admins are not the organisation's
admins: this grants nothing outside their group.
"""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, Message, User
from telegram.error import TelegramError

from bot.ptb.errors import described

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in (Chat.GROUP, Chat.SUPERGROUP)


async def is_group_admin(message: Message, user: User | None) -> bool:
    """Whether the sender of ``message`` administers its group.

    An admin writing anonymously ("Remain anonymous") sends as the group itself
    (``sender_chat`` is the chat): only admins can. When Telegram cannot be asked, the
    answer is no: a refusal the admin can retry beats a session nobody allowed.
    """
    chat = message.chat
    if not is_group(chat):
        return False
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True
    if user is None:
        return False
    try:
        member = await message.get_bot().get_chat_member(chat.id, user.id)
    except TelegramError as error:
        log.warning("could not check a group admin: %s", described(error))
        return False
    return member.status in ADMIN_STATUSES


async def may_pin(message: Message) -> bool:
    """Whether the bot may pin messages in the group of ``message`` (an admin with the right
    to pin, or the owner). Asked when a session starts: its message is posted and pinned
    later, at the group's slot. True when Telegram cannot be asked: no hint on a guess."""
    bot = message.get_bot()
    try:
        member = await bot.get_chat_member(message.chat.id, bot.id)
    except TelegramError as error:
        log.warning("could not check the bot's rights in a group: %s", described(error))
        return True
    if member.status == ChatMember.OWNER:
        return True
    return bool(getattr(member, "can_pin_messages", False))
