"""The layer contracts in pyproject.toml catch what they are there for: each probe adds one
import that breaks a layer (or a module in no layer) to a copy of the code, and
``lint-imports`` must fail on it. The unchanged copy passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

PROBES = {
    "handler imports bot.storage": ("handlers/admin.py", "import bot.storage.users"),
    "storage imports bot.services": ("bot/storage/users.py", "from bot.services import tally"),
    "actions import bot.broadcast": ("bot/actions/render.py", "from bot.broadcast import engine"),
    "broadcast imports bot.actions": ("bot/broadcast/engine.py", "import bot.actions.model"),
    "broadcast imports bot.services": ("bot/broadcast/sender.py", "import bot.services.notify"),
    "actions import bot.services": ("bot/actions/render.py", "import bot.services.tally"),
    "actions import bot.letters": ("bot/actions/parse.py", "import bot.letters.draft"),
    "text checks import the domain": ("bot/text_input.py", "import bot.actions.model"),
    "a new module in no layer": ("bot/about.py", "X = 1"),
}


def _lint(tmp_path: Path, probe: tuple[str, str] | None) -> subprocess.CompletedProcess[str]:
    copy = tmp_path / "copy"
    for folder in ("bot", "handlers"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    if probe is not None:
        path, line = probe
        with (copy / path).open("a", encoding="utf-8") as file:
            file.write(f"\n{line}  # noqa\n")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=copy, capture_output=True, text=True, check=False
    )


def test_the_code_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(tmp_path, None)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", PROBES)
def test_a_layer_breaking_import_is_caught(tmp_path: Path, name: str) -> None:
    result = _lint(tmp_path, PROBES[name])
    assert result.returncode != 0, result.stdout
