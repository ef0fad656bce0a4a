"""House rules a reviewer would otherwise check by grep, read from the syntax tree: handlers
reach Telegram only through handlers/replies.py, write only through bot/services, and types
are narrowed rather than silenced."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the update, the context and everything taken from them are called in handlers.
TELEGRAM_ROOTS = {"update", "context", "query", "message", "chat", "bot"}
# Methods that make Telegram do something a user sees (PTB's snake_case and the Bot API's
# camelCase aliases alike). ``get_file`` is allowed: a download the bot reads, nothing shown.
TELEGRAM_ACTION = re.compile(
    r"^(send|edit|answer|copy|delete|pin|unpin|reply|forward|ban|restrict|leave|stop_poll|"
    r"set_message_reaction|setMessageReaction|do_api_request)",
)
# replies.py is the one way out; errors.py answers for an update it receives as ``object``
# and must not raise, so it talks to Telegram itself (its answer is never retried).
ALLOWED = {"replies.py", "errors.py"}
# The only repository calls handlers may make: reads. A write goes through a bot/services
# function (one place per rule); add a name here only if it changes nothing.
STORAGE_READS = {
    "audit.latest",
    "groups.get",
    "reminders.enabled",
    "revisions.published_cases",
    "sessions.counts",
    "sessions.per_case",
    "stats.letters",
    "stats.subscribers",
    "tally.cases_of",
    "tally.count",
    "tally.counts",
    "users.count_reachable_subscribers",
    "users.get",
}
# Domain functions that write; handlers call the services that wrap them.
DOMAIN_WRITES = {
    "bot.actions.importer": {"import_revision", "discard", "publish"},
}


def _chain(node: ast.expr) -> list[str]:
    """``a.b(x).c`` -> ["a", "b", "c"]: the names from the root to the attribute."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _tainted(node: ast.expr, tainted: set[str]) -> bool:
    """Whether an expression is (or is taken from) the update, the context or a value of theirs."""
    return any(isinstance(sub, ast.Name) and sub.id in tainted for sub in ast.walk(node))


def telegram_calls(source: str) -> list[str]:
    """Calls of Telegram's methods on the update, the context or anything derived from them
    (``q = query_of(update)``, ``message = update.effective_message``...)."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        tainted = set(TELEGRAM_ROOTS)
        for node in ast.walk(function):  # assignments first: taint flows into local names
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value:
                if _tainted(node.value, tainted):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        tainted |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
            elif isinstance(node, ast.For | ast.AsyncFor | ast.withitem):
                value = (
                    node.iter if isinstance(node, ast.For | ast.AsyncFor) else node.context_expr
                )
                target = (
                    node.target if isinstance(node, ast.For | ast.AsyncFor) else node.optional_vars
                )
                if target is not None and _tainted(value, tainted):
                    tainted |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and TELEGRAM_ACTION.match(node.func.attr)
                and "storage" not in _chain(node.func)
                and _tainted(node.func.value, tainted)
            ):
                found.append(f"{node.lineno}: {ast.unparse(node.func)}")
    return found


def storage_writes(source: str) -> list[str]:
    """Repository calls (``context.storage.<repo>.<method>(...)``, ``storage.<repo>...``) that
    are not known reads, and imports of the domain's write functions."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            chain = _chain(node.func)
            if "storage" in chain[:-2]:
                called = ".".join(chain[chain.index("storage") + 1 :])
                if called not in STORAGE_READS:
                    found.append(f"{node.lineno}: {ast.unparse(node.func)}")
        elif isinstance(node, ast.ImportFrom) and node.module in DOMAIN_WRITES:
            for alias in node.names:
                if alias.name in DOMAIN_WRITES[node.module]:
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    return found


def _handlers() -> list[Path]:
    return sorted((ROOT / "handlers").glob("*.py"))


def test_handlers_call_telegram_only_through_replies() -> None:
    found = [
        f"{path.name}:{line}"
        for path in _handlers()
        if path.name not in ALLOWED
        for line in telegram_calls(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    "probe",
    [
        "async def f(update, context):\n    await update.effective_chat.send_chat_action('x')",
        "async def f(update, context):\n    await update.effective_message.copy(1)",
        "async def f(update, context):\n    await context.application.bot.sendMessage(1, 'x')",
        "async def f(update, context):\n    q = update.callback_query\n    await q.answer()",
        "async def f(update, context):\n    m = query_of(update).message\n    await m.pin()",
        "async def f(update, context):\n    await context.bot.forward_message(1, 2, 3)",
    ],
)
def test_the_telegram_guard_catches_a_direct_call(probe: str) -> None:
    assert telegram_calls(probe) != []


def test_the_telegram_guard_lets_reads_and_storage_pass() -> None:
    source = (
        "async def f(update, context):\n"
        "    file = await update.effective_message.document.get_file()\n"
        "    context.user_data.get('x')\n"
        "    await answer(update, 'x')\n"
    )
    assert telegram_calls(source) == []


def test_handlers_write_only_through_services() -> None:
    found = [
        f"{path.name}:{line}" for path in _handlers() for line in storage_writes(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    "probe",
    [
        "async def f(update, context):\n    await context.storage.users.delete(1)",
        "async def f(update, context):\n    storage = context.storage\n"
        "    await storage.audit.record(1, 'x', 'y')",
        "async def f(update, context):\n    await context.storage.reminders.interested(1, 'c')",
        "from bot.actions.importer import discard",
    ],
)
def test_the_write_guard_catches_a_repository_write(probe: str) -> None:
    assert storage_writes(probe) != []


def test_the_write_guard_lets_reads_pass() -> None:
    assert storage_writes("async def f(c):\n    await c.storage.users.get(1)") == []


def storage_types_through_services(source: str) -> list[str]:
    """Names a handler imports from a service that the service only took from bot.storage."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.services"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                origin = getattr(getattr(module, alias.name, None), "__module__", "") or ""
                if origin.startswith("bot.storage"):
                    found.append(f"{node.lineno}: {alias.name} ({origin})")
    return found


def test_handlers_take_no_storage_type_through_a_service() -> None:
    found = [
        f"{path.name}:{line}"
        for path in _handlers()
        for line in storage_types_through_services(path.read_text())
    ]
    assert found == []
    probe = "from bot.services.reports import LetterCount"
    assert storage_types_through_services(probe) != []


def test_at_most_ten_type_ignores() -> None:
    ignores = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("bot", "handlers")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "# type: ignore" in line
    ]
    assert len(ignores) <= 10, ignores
