"""deploy/: the systemd unit and the Containerfile call real commands with real options."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot import cli

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "uabot.service"
CONTAINERFILE = ROOT / "deploy" / "Containerfile"


class _Unit(configparser.ConfigParser):
    """systemd's format is INI-like, with case-sensitive keys."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def unit() -> configparser.ConfigParser:
    parser = _Unit(interpolation=None, strict=True)
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def parsed(argv: list[str]) -> object:
    """What ``uabot`` makes of ``argv``: argparse exits (SystemExit) on an unknown option."""
    return cli._parser().parse_args(argv)


def test_the_units_exec_start_is_uabot_run_with_real_options() -> None:
    service = unit()["Service"]
    program, *argv = shlex.split(service["ExecStart"])
    assert Path(program).name == "uabot"
    args = parsed(argv)
    assert getattr(args, "command", None) == "run"
    assert getattr(args, "handler", None) is cli.cmd_run
    config = Path(getattr(args, "config", ""))
    assert (
        config.is_absolute() and config.parent == Path("/etc") / service["ConfigurationDirectory"]
    )


def test_the_unit_runs_confined_as_its_own_user_and_holds_no_token() -> None:
    service = unit()["Service"]
    assert service["User"] not in ("", "root")
    assert service["StateDirectory"] == "uabot"
    assert service["WorkingDirectory"] == f"/var/lib/{service['StateDirectory']}"
    expected = {
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "KillSignal": "SIGTERM",
        # A config mistake exits 2 (bot/cli.py EXIT_USAGE): restarting would not fix it.
        "RestartPreventExitStatus": str(cli.EXIT_USAGE),
    }
    assert {key: service.get(key) for key in expected} == expected
    text = UNIT.read_text(encoding="utf-8")
    # The token comes from telegram.token_file (docs/operating.md), never from the unit.
    assert not re.search(r"^\s*Environment=.*UABOT_TOKEN", text, re.MULTILINE)
    assert not re.search(r"\d{5,}:[A-Za-z0-9_-]{30,}", text)  # no token shape anywhere


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    # verify checks that the program exists: point it at this environment's uabot.
    program = Path(sys.executable).parent / "uabot"
    if not program.exists():
        pytest.skip(f"{program} is not installed (pip install -e .)")
    text = UNIT.read_text(encoding="utf-8")
    installed = shlex.split(unit()["Service"]["ExecStart"])[0]
    copy = tmp_path / "uabot.service"
    copy.write_text(text.replace(installed, str(program)), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    # An unknown or misspelt key is only a warning on stderr: no output at all is the bar.
    assert (result.returncode, result.stdout + result.stderr) == (0, ""), result


def containerfile() -> dict[str, list[str]]:
    """Each instruction of the Containerfile with its arguments (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text(encoding="utf-8"))
    instructions: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            instructions.setdefault(word.upper(), []).append(rest.strip())
    return instructions


def test_the_images_entry_point_is_uabot_run_with_real_options() -> None:
    image = containerfile()
    entrypoint = json.loads(image["ENTRYPOINT"][-1])
    command = json.loads(image["CMD"][-1])
    assert entrypoint == ["uabot"]
    args = parsed(command)
    assert getattr(args, "command", None) == "run"
    assert getattr(args, "log_format", None) == "json"
    assert Path(getattr(args, "config", "")) == Path("/etc/uabot/config.toml")


def test_the_image_is_slim_runs_as_a_user_and_keeps_the_database_on_a_volume() -> None:
    image = containerfile()
    base = image["FROM"][0]
    match = re.fullmatch(r"(?:docker\.io/library/)?python:(\d+)\.(\d+)-slim", base)
    assert match, base
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert (int(match[1]), int(match[2])) >= tuple(
        int(part) for part in requires.removeprefix(">=").split(".")
    )
    assert image["USER"][-1] not in ("root", "0")
    assert json.loads(image["VOLUME"][-1]) == ["/var/lib/uabot"]
    assert image["STOPSIGNAL"] == ["SIGTERM"]
    # Every package pyproject installs is copied into the image (a new one is not forgotten).
    copied = {source for arg in image["COPY"] for source in shlex.split(arg)[:-1]}
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    tops = {name.split(".")[0] for name in setuptools["packages"]}
    sources = {setuptools["package-dir"].get(top, top) for top in tops}
    assert sources | {"pyproject.toml", "README.md"} <= copied, copied
