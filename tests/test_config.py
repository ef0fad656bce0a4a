"""Config errors are one clear line naming the key, with exit status 2 from the CLI."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from conftest import TOKEN

from bot.cli import main
from bot.config import ConfigError, check_token, load_config, parse_config

GOOD = """
[telegram]
token = "123:abc"
admins = [1, 2]
[storage]
path = "x.sqlite3"
[i18n]
default_language = "de"
languages = ["en", "de"]
[broadcast]
messages_per_second = 20
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_config_is_typed_and_hides_the_token(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.telegram.admins == frozenset({1, 2})
    assert config.i18n.languages == ("en", "de")
    assert config.broadcast.messages_per_second == 20.0
    assert config.storage.path == tmp_path / "x.sqlite3"  # relative to the config file
    assert "123:abc" not in repr(config)


def test_the_environment_overrides_the_token() -> None:
    config = parse_config({"telegram": {"token": "1:file"}}, environ={"UABOT_TOKEN": "2:env"})
    assert config.telegram.token == "2:env"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({}, "telegram.token is missing"),
        (
            {"telegram": {"token": "1:a", "tokn": "x"}},
            "unknown key telegram.tokn: did you mean telegram.token?",
        ),
        (
            {"telegram": {"token": "1:a", "colour": "x"}},
            "unknown key telegram.colour: remove it (known: token, base_url,",
        ),
        ({"telegram": {"token": "1:a"}, "storge": {}}, "unknown section [storge]: did you mean"),
        (
            {"telegram": {"token": "1:a", "read_timeout": 0}},
            "telegram.read_timeout must be more than 0 and at most 600 (seconds)",
        ),
        ({"telegram": {"token": 5}}, "telegram.token has the wrong type (int)"),
        ({"telegram": {"token": "1:a", "admins": "me"}}, "telegram.admins has the wrong type"),
        ({"telegram": {"token": "1:a", "admins": ["me"]}}, "telegram.admins must hold"),
        (
            {"telegram": {"token": "1:a"}, "broadcast": {"messages_per_second": True}},
            "broadcast.messages_per_second has the wrong type",
        ),
        (
            {"telegram": {"token": "1:a"}, "broadcast": {"messages_per_second": 0}},
            "more than 0 and at most 30",
        ),
        (
            {"telegram": {"token": "1:a"}, "broadcast": {"messages_per_second": 200}},
            "at most 30 (Telegram's free limit), e.g. 25; up to 1000 needs broadcast.paid = true",
        ),
        (
            {
                "telegram": {"token": "1:a"},
                "broadcast": {"messages_per_second": 1001, "paid": True},
            },
            "at most 1000 with broadcast.paid = true",
        ),
        (
            {"telegram": {"token": "1:a"}, "broadcast": {"paid": "yes"}},
            "broadcast.paid has the wrong type",
        ),
        (
            {"telegram": {"token": "1:a"}, "i18n": {"default_language": "it"}},
            "i18n.default_language 'it' is not in i18n.languages",
        ),
    ],
)
def test_each_mistake_names_its_key(raw: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(raw, environ={})
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (None, "not found: copy config.example.toml"),
        ("[telegram\n", "is not valid TOML"),
        (
            '[telegram]\ntoken = "1:a"\nadmin = [1]\n',
            "unknown key telegram.admin: did you mean telegram.admins?",
        ),
    ],
)
def test_the_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, fragment: str
) -> None:
    path = tmp_path / "config.toml" if text is None else write(tmp_path, text)
    assert main(["migrate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_example_config_is_valid() -> None:
    example = Path(__file__).parent.parent / "config.example.toml"
    config = load_config(example)
    assert config.i18n.languages == ("en", "de", "fr")
    assert config.broadcast.messages_per_second == 25


def test_timeouts_are_read_in_seconds() -> None:
    config = parse_config(
        {"telegram": {"token": "1:a", "connect_timeout": 2, "read_timeout": 0.5}}, environ={}
    )
    assert (config.telegram.connect_timeout, config.telegram.read_timeout) == (2.0, 0.5)
    assert parse_config({"telegram": {"token": "1:a"}}, environ={}).telegram.read_timeout == 5.0


def test_the_secrets_are_the_token_its_secret_half_and_the_proxy_password() -> None:
    config = parse_config(
        {"telegram": {"token": "12:abc-def", "proxy": "http://me:p%40ss@proxy:3128"}}, environ={}
    )
    basic = base64.b64encode(b"me:p@ss").decode()  # aiohttp's Proxy-Authorization value
    assert set(config.secrets()) == {"12:abc-def", "abc-def", "p%40ss", "p@ss", basic}


def test_a_token_of_botfathers_shape_passes_the_run_check() -> None:
    for token in ("110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", TOKEN):
        check_token(parse_config({"telegram": {"token": token}}, environ={}), "config.toml")


def test_an_empty_config_takes_the_dataclass_defaults() -> None:
    """The dataclass fields are the one place defaults live: parse_config adds none of its own."""
    from bot.config import Config, Secret, StorageConfig, TelegramConfig

    # Relative paths are resolved against the config's folder (here: the working directory).
    storage = StorageConfig(path=(Path.cwd() / StorageConfig.path).resolve())
    assert parse_config({"telegram": {"token": TOKEN}}, environ={}) == Config(
        telegram=TelegramConfig(token=Secret(TOKEN)), storage=storage
    )


def test_the_token_may_come_from_a_file_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("123456:from-the-file\n", encoding="utf-8")
    config_file = tmp_path / "config.toml"
    config_file.write_text('[telegram]\ntoken_file = "token"\n', encoding="utf-8")
    config = load_config(config_file)  # relative to the config's folder, stripped
    assert config.telegram.token == "123456:from-the-file"
    assert config.telegram.token_file == tmp_path / "token"
    assert "123456:from-the-file" not in repr(config)
    with pytest.raises(ConfigError, match=r"the token in .*token \(telegram.token_file in "):
        check_token(config, config_file)  # the message says where to fix it
    env = parse_config({"telegram": {"token_file": "missing"}}, {"UABOT_TOKEN": "1:env"})
    assert env.telegram.token == "1:env"  # the environment wins, the file is not read
    with pytest.raises(ConfigError, match=r"telegram.token_file .*missing not found"):
        parse_config({"telegram": {"token_file": "missing"}}, {}, base=tmp_path)
    with pytest.raises(ConfigError, match=r"set telegram.token or telegram.token_file, not both"):
        parse_config({"telegram": {"token": "1:a", "token_file": "token"}}, {}, base=tmp_path)


def test_a_config_file_that_is_not_utf8_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(GOOD.replace('"de"', '"d\xe9"').encode("latin-1"))  # saved as Latin-1
    byte = GOOD.index('"de"') + 3  # the é, counted from 1
    said = f"{path} is not UTF-8 (byte {byte}): save it as UTF-8"
    for command in ("run", "migrate"):
        assert main([command, "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.splitlines()[-1] == f"uabot: config error: {said}", err
    assert main(["doctor", "--config", str(path)]) == 1  # the doctor's first problem
    out = capsys.readouterr()
    assert f"config: {said}" in out.out
    assert "Traceback" not in out.err


@pytest.mark.parametrize(
    "url",
    [
        "https://uabot:Pw0rd-Sekret@bot.example.org:8080/telegram",  # a port Telegram refuses
        "https://uabot:Pw0rd-Sekret@bot.example.org:99999/telegram",  # no port at all
        "https://uabot:Pw0rd-Sekret@127.0.0.1/telegram",  # this machine
        "http://uabot:Pw0rd-Sekret@bot.example.org/telegram?x=1",  # http, a query
        "https://bot.example.org/telegram?key=Pw0rd-Sekret",  # a secret in the query
    ],
)
def test_webhook_url_errors_never_show_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    path = write(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nwebhook_url = "{url}"\n'
        'secret_token = "abcdef"\n',
    )
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "uabot: config error: telegram.webhook_url 'https://bot.example.org" in err.replace(
        "'http://", "'https://"
    ).replace("127.0.0.1", "bot.example.org"), err
    assert "Pw0rd-Sekret" not in err and "uabot:Pw0rd" not in err
