"""What an installed (non-editable) uabot contains: every package, the catalogs, the data."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_code_directory_is_a_listed_package() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("bot", "handlers")
        for path in (ROOT / top).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing_init = {
        name for name in found if not (ROOT / name.replace(".", "/") / "__init__.py").exists()
    }
    assert not missing_init, f"directories without __init__.py: {sorted(missing_init)}"
    assert found | {"uabot_locales"} == listed, (
        f"pyproject.toml [tool.setuptools] packages must list exactly: {sorted(found)}"
    )


def test_the_catalogs_are_found_through_their_package() -> None:
    from bot.i18n import LOCALES_DIR

    assert (LOCALES_DIR / "de" / "LC_MESSAGES" / "uabot.po").is_file()
