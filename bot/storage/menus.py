"""Which admin command menus the bot set: Telegram keeps a chat's scope until it is deleted."""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage.db import Database

# (chat id, language code); "" stands for the menu without a language (every other language).
Menu = tuple[int, str]


class AdminMenus:
    """Narrow async access to ``admin_menus``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> set[Menu]:
        rows = await self._db.fetch_all("SELECT chat_id, language_code FROM admin_menus")
        return {(int(row[0]), str(row[1])) for row in rows}

    async def add(self, menus: Iterable[Menu]) -> None:
        await self._db.execute_many(
            "INSERT INTO admin_menus (chat_id, language_code) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            menus,
        )

    async def remove(self, menu: Menu) -> None:
        await self._db.execute(
            "DELETE FROM admin_menus WHERE chat_id = ? AND language_code = ?", menu
        )
