"""The commands in README.md and docs/operating.md work as written: each ``uabot …`` line is
one the CLI's own parser accepts, and the install steps suit a fresh Debian (``python3``)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", ROOT / "docs" / "operating.md")
# Where a command's program stands: first, or after sudo (-u uabot).
PROGRAM = re.compile(r"^(?:/opt/uabot/venv/bin/|\.venv/bin/)?uabot$")
# Commands the `ops` engineer adds (uabot backup / restore / doctor): parsed once merged.
ELSEWHERE = {"backup", "restore", "doctor"}


def shell_lines(path: Path) -> list[str]:
    """Each command of the ```sh blocks, continuation lines joined, ``$(…)`` as a word."""
    text = path.read_text(encoding="utf-8")
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\$\([^)]*\)", "X", line).strip()
            if line:
                lines.append(line)
    return lines


def uabot_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in DOCS:
        for line in shell_lines(path):
            words = shlex.split(line, comments=True)
            if words[:3] == ["sudo", "-u", "uabot"]:
                words = words[3:]
            elif words[:1] == ["sudo"]:
                words = words[1:]
            if words and PROGRAM.match(words[0]):
                found.append((f"{path.name}: {line}", words[1:]))
    return found


COMMANDS = uabot_commands()


def test_the_guides_show_uabot_commands() -> None:
    commands = {argv[0] for _line, argv in COMMANDS if argv and not argv[0].startswith("-")}
    assert {"run", "check", "import", "stats", "sandbox", "backup", "restore"} <= commands, (
        commands
    )


@pytest.mark.parametrize(("line", "argv"), COMMANDS, ids=[line for line, _argv in COMMANDS])
def test_each_uabot_command_is_one_the_cli_accepts(line: str, argv: list[str]) -> None:
    parser = cli._parser()
    # argparse offers no public list of a parser's subcommands: its help lists them.
    known = set(re.findall(r"^ {4}(\w+)\s", parser.format_help(), re.MULTILINE))
    assert {"run", "check"} <= known, parser.format_help()
    if argv and argv[0] in ELSEWHERE and argv[0] not in known:
        pytest.skip(f"uabot {argv[0]} comes with the ops branch")
    # "[--publish]" and similar in the README mean "optional": the option itself must exist.
    argv = [re.sub(r"^\[|\]$", "", arg) for arg in argv]
    try:
        parser.parse_args(argv)
    except SystemExit as exit:
        assert exit.code == 0, f"uabot rejects: {line}"  # --version / --help exit 0


def test_the_install_steps_work_on_a_fresh_debian() -> None:
    """Debian has only python3, and venv is the python3-venv package: the first Python a guide
    runs makes the virtual environment with python3; a bare ``python`` comes after it."""
    for path in DOCS:
        programs = []
        for line in shell_lines(path):
            words = shlex.split(line, comments=True)
            words = words[1:] if words[:1] == ["sudo"] else words
            if words and re.fullmatch(r"python3?", words[0]):
                programs.append(words)
        assert programs, path.name
        assert programs[0][:3] == ["python3", "-m", "venv"], (path.name, programs[0])
        assert "python3-venv" in path.read_text(encoding="utf-8"), path.name


def test_the_guides_agree_on_one_webhook_and_on_what_docker_and_journalctl_need() -> None:
    """One webhook example throughout (a second one on another port read as the same setup);
    `docker run` has no --secret; journalctl needs root or the adm group."""
    texts = {path.name: path.read_text(encoding="utf-8") for path in DOCS}
    for name, text in texts.items():
        for listen in re.findall(r'listen = "([^"]+)"', text):
            assert listen in ("127.0.0.1:8443", "127.0.0.1:9464"), (name, listen)
        for url in re.findall(r"proxy_pass (http://[^;]+);", text):
            assert url == "http://127.0.0.1:8443", (name, url)
        for path in re.findall(r"location (/\w+)", text):
            assert path == "/telegram", (name, path)
    lines = [line for path in DOCS for line in shell_lines(path)]
    docker = [line for line in lines if line.startswith("docker run")]
    assert docker and not any("--secret" in line for line in docker), docker
    assert all(" --stop-timeout 30 " in line for line in docker)
    journal = [line for line in lines if "journalctl" in line]
    assert journal and all(line.startswith("sudo journalctl") for line in journal), journal
