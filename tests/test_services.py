"""Layers: SQL only in bot/storage, transactions only in services; one database connection."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from journeys import ADMIN_ID, publish, subscriber

from bot.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
STORAGE = ROOT / "bot" / "storage"
# Statements (not words in a sentence): keyword plus the clause that makes it SQL.
SQL = re.compile(
    r"\b(SELECT\b[\s\S]+\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX|TRIGGER)|DROP\s+(TABLE|INDEX)|ALTER\s+TABLE|PRAGMA\s+\w+|"
    r"BEGIN\s+IMMEDIATE|COMMIT|ROLLBACK)\b"
)
DATABASE_CALLS = {
    "execute",
    "executemany",
    "executescript",
    "execute_many",
    "insert",
    "fetch_one",
    "fetch_all",
    "fetch_value",
}
DRIVERS = {"aiosqlite", "sqlite3"}
# The sandbox copies a database file with sqlite3's backup API: no SQL, no bot data.
DRIVER_ALLOWED = {ROOT / "bot" / "sandbox" / "seed.py"}


def _modules(*folders: str) -> list[Path]:
    files = [p for f in folders for p in sorted((ROOT / f).rglob("*.py"))]
    return [p for p in files if STORAGE not in p.parents]


def _strings(tree: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _calls(tree: ast.AST, names: set[str]) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in names
    ]


def test_no_sql_outside_the_storage_package() -> None:
    found = []
    for path in _modules("bot", "handlers"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        where = path.relative_to(ROOT)
        found += [
            f"{where}:{n.lineno}: SQL {n.value[:40]!r}"
            for n in _strings(tree)
            if id(n) not in docstrings and SQL.search(n.value)
        ]
        found += [
            f"{where}:{n.lineno}: .{n.func.attr}()"  # type: ignore[attr-defined]
            for n in _calls(tree, DATABASE_CALLS)
        ]
        if path not in DRIVER_ALLOWED:
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    names = {(node.module or "").split(".")[0]}
                else:
                    continue
                found += [f"{where}:{node.lineno}: imports {n}" for n in names & DRIVERS]
    assert not found, "SQL belongs in bot/storage:\n" + "\n".join(found)


def test_the_check_sees_sql_and_database_calls() -> None:
    """The scan above would catch a statement or a database call (it is not vacuous)."""
    tree = ast.parse('async def f(db):\n    await db.execute("DELETE FROM users WHERE id = ?")\n')
    assert [n for n in _strings(tree) if SQL.search(n.value)]
    assert _calls(tree, DATABASE_CALLS)
    assert not SQL.search("Send /start first: reminders are for subscribers.")


def test_handlers_open_no_transactions_and_reach_no_database() -> None:
    found = []
    for path in _modules("handlers"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        found += [f"{where}:{n.lineno}: .transaction()" for n in _calls(tree, {"transaction"})]
        found += [
            f"{where}:{n.lineno}: .db"
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and n.attr == "db"
        ]
    assert not found, "handlers call a service in bot/services instead:\n" + "\n".join(found)


@pytest.mark.sqlite_only  # SQLite's migration files, pragmas, connection
async def test_the_bot_holds_one_database_connection(
    emulator: Emulator, restart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Persistence (loaded in initialize) and services (post_init) share one connection."""
    opened = []
    connect = aiosqlite.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        return connect(*args, **kwargs)

    monkeypatch.setattr(aiosqlite, "connect", counting)
    async with restart() as app:
        user = await subscriber(emulator, 41, "en")
        await publish(emulator.user(ADMIN_ID), "ua-012-26-1.toml")
        await user.receive()  # the action card: persistence and the broadcast both wrote
        await app.update_persistence()
        assert len(opened) == 1
        storage = app.bot_data.storage
        assert await storage.users.get(41) is not None
    assert len(opened) == 1
