"""The Bot API emulator, driven by python-telegram-bot's own Bot and by raw HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputFile,
    InputTextMessageContent,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.emulator import Button, CallbackAnswer, Emulator, HtmlError, parse_html

TOKEN = "123456:TEST-TOKEN"
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def tg(emu: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=HTTPXRequest(read_timeout=2.0),
    )
    await bot.initialize()
    yield bot
    await bot.shutdown()


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    root = emu.base_url.removesuffix("/bot")
    async with httpx.AsyncClient(base_url=root, timeout=5) as client:
        yield client


def keyboard(*labels: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in labels]])


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns when RetryAfter is built in its deprecated int mode; opt in to timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    assert isinstance(value, dtm.timedelta)
    return value.total_seconds()


# -- transport and identity ---------------------------------------------------------------


async def test_get_me_through_ptb(emu: Emulator, tg: Bot) -> None:
    me = await tg.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (
        4242,
        True,
        "uabot_test_bot",
        "UA Bot",
    )
    assert emu.stats.requests["getMe"] == 2  # initialize() + get_me()
    assert emu.base_url.startswith("http://127.0.0.1:") and emu.base_url.endswith("/bot")


async def test_wrong_token_unknown_method_and_case_insensitivity(
    emu: Emulator, http: httpx.AsyncClient
) -> None:
    wrong = await http.post("/bot999:WRONG/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = await http.post(f"/bot{TOKEN}/sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    lower = await http.get(f"/bot{TOKEN}/getme")
    assert lower.status_code == 200 and lower.json()["result"]["id"] == 4242
    assert emu.stats.errors_by_code[401] == 1 and emu.stats.errors_by_code[404] == 1


async def test_json_form_and_query_bodies(emu: Emulator, http: httpx.AsyncClient) -> None:
    user = emu.user(7, first_name="Grace", started=True)
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    as_json = await http.post(
        f"/bot{TOKEN}/sendMessage", json={"chat_id": 7, "text": "json", "reply_markup": markup}
    )
    assert as_json.json()["ok"] is True
    as_form = await http.post(
        f"/bot{TOKEN}/sendMessage",
        data={"chat_id": "7", "text": "form", "reply_markup": '{"inline_keyboard": [[{"text": '
              '"No", "callback_data": "n"}]]}'},
    )  # fmt: skip
    result = as_form.json()["result"]
    assert result["chat"] == {"id": 7, "type": "private", "first_name": "Grace"}
    assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "n"
    as_query = await http.get(f"/bot{TOKEN}/sendMessage", params={"chat_id": "7", "text": "q"})
    assert as_query.json()["result"]["message_id"] == 3
    sent = await user.receive_many(3, timeout=1)
    assert [m.text for m in sent] == ["json", "form", "q"]
    assert sent[0].buttons == [[Button("Yes", "y", None)]]
    assert sent[1].buttons == [[Button("No", "n", None)]]
    missing = await http.post(f"/bot{TOKEN}/sendMessage", data={"text": "x"})
    assert missing.status_code == 400
    assert missing.json()["description"] == "Bad Request: chat_id is empty"


# -- messages -------------------------------------------------------------------------------


async def test_send_html_with_keyboard(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, first_name="Ada", language_code="de-CH", started=True)
    html = '<b>Hallo</b> &amp; <a href="https://amnesty.ch">mehr</a> 👋 <i>ok</i>'
    msg = await tg.send_message(
        1001, html, parse_mode=ParseMode.HTML, reply_markup=keyboard(("Deutsch", "lang:de"))
    )
    assert msg.text == "Hallo & mehr 👋 ok"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [
        ("bold", 0, 5),
        ("text_link", 8, 4),
        ("italic", 16, 2),  # the emoji counts as two UTF-16 units
    ]
    assert msg.from_user is not None and msg.from_user.id == 4242
    assert msg.reply_markup is not None
    assert msg.reply_markup.inline_keyboard[0][0].callback_data == "lang:de"
    sent = await user.receive()
    assert (sent.text, sent.html, sent.parse_mode) == ("Hallo & mehr 👋 ok", html, "HTML")
    assert sent.buttons == [[Button("Deutsch", "lang:de", None)]]
    assert "Deutsch" in str(sent) and "Hallo" in str(sent)
    assert emu.stats.sent_messages == 1


async def test_edit_message_text_and_not_modified(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, started=True)
    first = await tg.send_message(1001, "one", reply_markup=keyboard(("A", "a")))
    edited = await tg.edit_message_text("<b>two</b>", 1001, first.message_id, parse_mode="HTML")
    assert edited.text == "two" and edited.edit_date is not None
    sent = await user.receive()
    assert (sent.text, sent.edits, sent.history, sent.buttons) == ("two", 1, ["one"], [])
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await tg.edit_message_text("<b>two</b>", 1001, first.message_id, parse_mode="HTML")
    await tg.edit_message_reply_markup(1001, first.message_id, reply_markup=keyboard(("B", "b")))
    assert sent.buttons == [[Button("B", "b", None)]] and sent.edits == 2
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await tg.edit_message_text("x", 1001, 999)
    assert await tg.delete_message(1001, first.message_id) is True
    assert sent.deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await tg.delete_message(1001, first.message_id)
    await user.expect_silence(0.05)  # edits are not new messages


@pytest.mark.parametrize(
    "html",
    [
        "<b>bold",
        "<blink>x</blink>",
        "a < b",
        "fish & chips",
        "<b>x</i>",
        "x</b>",
        "<br>",
        "&nbsp;",
    ],
)
async def test_malformed_html_is_rejected(emu: Emulator, tg: Bot, html: str) -> None:
    emu.user(1001, started=True)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await tg.send_message(1001, html, parse_mode=ParseMode.HTML)
    assert emu.stats.sent_messages == 0


async def test_length_and_button_limits(emu: Emulator, tg: Bot) -> None:
    emu.user(1001, started=True)
    await tg.send_message(1001, "x" * 4096)
    await tg.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # tags are free
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await tg.send_message(1001, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await tg.send_message(1001, "<b> </b>", parse_mode="HTML")
    await tg.send_message(1001, "ok", reply_markup=keyboard(("ok", "d" * 64)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):  # 33 x 2 bytes in UTF-8
        await tg.send_message(1001, "no", reply_markup=keyboard(("no", "ä" * 33)))
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await tg.send_document(1001, InputFile(b"x", filename="a.txt"), caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await tg.send_message(424242, "nobody")
    assert emu.stats.sent_messages == 3


async def test_send_document_get_file_and_download(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, started=True)
    payload = b'[letter]\nlanguage = "de"\n'
    msg = await tg.send_document(
        1001, InputFile(payload, filename="ua.toml"), caption="<i>Brief</i>", parse_mode="HTML"
    )
    assert msg.document is not None and msg.caption == "Brief"
    assert (msg.document.file_name, msg.document.file_size) == ("ua.toml", len(payload))
    sent = await user.receive()
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.data, sent.text) == (
        "ua.toml",
        payload,
        "Brief",
    )
    file = await tg.get_file(msg.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload
    again = await tg.send_document(1001, msg.document.file_id)  # resend by file_id
    assert again.document is not None and again.document.file_id == msg.document.file_id
    await tg.send_chat_action(1001, "upload_document")
    assert user.chat_actions == ["upload_document"]


# -- updates from simulated users ---------------------------------------------------------


async def test_updates_for_command_tap_and_upload(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, first_name="Ada", language_code="de-CH", username="ada", started=True)
    await user.send("/start@uabot_test_bot ua-123")
    (update,) = await tg.get_updates(timeout=1)
    assert update.message is not None and update.message.from_user is not None
    assert update.message.from_user.language_code == "de-CH"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 21)
    ]
    assert update.message.message_id == 1

    prompt = await tg.send_message(1001, "Sprache?", reply_markup=keyboard(("Deutsch", "lang:de")))
    assert prompt.message_id == 2  # ids are shared between the user and the bot
    tap = asyncio.create_task(user.tap(await user.receive(), "Deutsch"))
    (cb_update,) = await tg.get_updates(offset=update.update_id + 1, timeout=1)
    query = cb_update.callback_query
    assert query is not None and query.data == "lang:de"
    assert query.message is not None and query.message.message_id == 2
    assert query.from_user.id == 1001
    assert await tg.answer_callback_query(query.id, text="Gespeichert", show_alert=True)
    assert await tap == CallbackAnswer("Gespeichert", True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await tg.answer_callback_query(query.id)

    await user.upload("ua.toml", b"x = 1\n", mime_type="application/toml", caption="mine")
    (doc_update,) = await tg.get_updates(offset=cb_update.update_id + 1, timeout=1)
    doc_msg = doc_update.message
    assert doc_msg is not None and doc_msg.document is not None and doc_msg.caption == "mine"
    assert (doc_msg.document.file_name, doc_msg.document.mime_type) == (
        "ua.toml",
        "application/toml",
    )
    file = await tg.get_file(doc_msg.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"x = 1\n"
    assert await tg.get_updates(offset=doc_update.update_id + 1) == ()


async def test_long_poll_holds_until_an_update_arrives(emu: Emulator, tg: Bot) -> None:
    user = emu.user(5, started=True)
    started = time.monotonic()
    assert await tg.get_updates(timeout=0.3) == ()
    # It held for the poll's length; the upper bound only says it ended at all.
    assert 0.25 < time.monotonic() - started < 10
    poll = asyncio.create_task(tg.get_updates(timeout=60))
    await asyncio.sleep(0.1)
    assert not poll.done()
    started = time.monotonic()
    await user.send("hello")
    (update,) = await poll
    # Answered by the update, not by the end of the 60 s poll.
    assert time.monotonic() - started < 30 and update.message is not None
    assert update.message.text == "hello" and not update.message.entities


async def test_sim_user_assertions_are_readable(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, first_name="Ada", started=True)
    await user.send("/start")
    with pytest.raises(AssertionError, match=r"(?s)no new message.*user #1: '/start'"):
        await user.receive(timeout=0.05)
    await tg.send_message(1001, "Pick", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    with pytest.raises(AssertionError, match="expected silence"):
        await user.expect_silence(0.05)
    msg = await user.receive()
    with pytest.raises(AssertionError, match=r"no button 'Maybe'.*\['Yes', 'No'\]"):
        await user.tap(msg, "Maybe")
    with pytest.raises(AssertionError, match="no answerCallbackQuery"):
        await user.tap(msg, "n", timeout=0.05)  # by callback_data; nobody answers
    asyncio.get_running_loop().call_later(0.05, emu.block, 1001)
    await emu.wait_until(lambda: 1001 in emu.faults.blocked, timeout=1)
    with pytest.raises(AssertionError, match="condition not met"):
        await emu.wait_until(lambda: False, timeout=0.05)


# -- commands -----------------------------------------------------------------------------


async def test_commands_per_language_and_scope(emu: Emulator, tg: Bot) -> None:
    await tg.set_my_commands([("start", "Starten"), ("help", "Hilfe")], language_code="de")
    await tg.set_my_commands([("start", "Start")])
    assert emu.commands(language_code="de") == [("start", "Starten"), ("help", "Hilfe")]
    assert emu.commands() == [("start", "Start")]
    assert emu.commands(language_code="fr") == []
    got = await tg.get_my_commands(language_code="de")
    assert [(c.command, c.description) for c in got] == [("start", "Starten"), ("help", "Hilfe")]
    await tg.delete_my_commands(language_code="de")
    assert emu.commands(language_code="de") == []
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await tg.set_my_commands([("Start", "bad")])
    assert await tg.set_chat_menu_button() is True


# -- faults -------------------------------------------------------------------------------


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_rate_limit_answers_429_with_retry_after(emu: Emulator, tg: Bot) -> None:
    emu.user(1001, started=True)
    emu.rate_limit = 2
    await tg.send_message(1001, "1")
    await tg.send_message(1001, "2")
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(1001, "3")
    assert retry_seconds(caught.value) == 1
    assert emu.stats.too_many_requests == 1 and emu.stats.sent_messages == 2
    await asyncio.sleep(0.55)  # 2 tokens/s: one token back after 0.5 s
    await tg.send_message(1001, "4")
    emu.rate_limit = None
    for i in range(10):
        await tg.send_message(1001, f"free {i}")


async def test_per_chat_rate_and_slow_refill(emu: Emulator, http: httpx.AsyncClient) -> None:
    emu.user(1, started=True)
    emu.user(2, started=True)
    emu.set_per_chat_rate(0.2, burst=2)  # one message per 5 s after a burst of two
    url = f"/bot{TOKEN}/sendMessage"
    for _ in range(2):
        assert (await http.post(url, data={"chat_id": 1, "text": "x"})).status_code == 200
    limited = await http.post(url, data={"chat_id": 1, "text": "x"})
    assert limited.status_code == 429
    body = limited.json()
    assert body["parameters"] == {"retry_after": 5}
    assert body["description"] == "Too Many Requests: retry after 5"
    assert (await http.post(url, data={"chat_id": 2, "text": "x"})).status_code == 200


async def test_blocked_and_deactivated_users(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, started=True)
    emu.block(1001)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await tg.send_message(1001, "hi")
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await tg.send_chat_action(1001, "typing")
    emu.unblock(1001)
    emu.deactivate(1001)
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await tg.send_message(1001, "hi")
    emu.unblock(1001)
    await tg.send_message(1001, "back")
    assert [m.text for m in user.messages] == ["back"]
    assert emu.stats.errors_by_code[403] == 3


async def test_the_bot_cannot_write_first_to_a_user_who_never_wrote_to_it(
    emu: Emulator, tg: Bot
) -> None:
    """Telegram knows the user (from a group, say), but they never opened the bot's chat."""
    user = emu.user(1002, first_name="Met in a group")
    for call in (tg.send_message(1002, "hi"), tg.send_chat_action(1002, "typing")):
        with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
            await call
    await user.send("/start")  # now the chat is open
    await tg.send_message(1002, "welcome")
    assert [m.text for m in user.messages] == ["welcome"]
    seeded = emu.user(1003, started=True)  # opened it before (a seeded database's subscriber)
    await tg.send_message(1003, "news")
    assert [m.text for m in seeded.messages] == ["news"]
    assert emu.stats.errors_by_code[403] == 2


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_injected_errors_and_delays(emu: Emulator, tg: Bot) -> None:
    emu.user(1001, started=True)
    emu.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(1001, "x")
    assert retry_seconds(caught.value) == 7
    emu.fail_next("sendmessage", 400, "Bad Request: injected", times=2)
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)injected"):
            await tg.send_message(1001, "x")
    await tg.send_message(1001, "fine")
    emu.delay("sendMessage", seconds=0.5)
    with pytest.raises(TimedOut):
        await tg.send_message(1001, "slow", read_timeout=0.1)
    emu.delay("sendMessage", seconds=0)
    await tg.send_message(1001, "fast", read_timeout=1)


# -- HTML parser ----------------------------------------------------------------------------


def test_html_parser_entities_and_escapes() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x &lt; 1</code></pre>'
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">p</span>'
        "<blockquote expandable>q</blockquote>&#65;&#x42;&quot;"
    )
    assert text == 'x < 1spqAB"'
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("pre", 0, 5),
        ("code", 0, 5),
        ("spoiler", 5, 1),
        ("spoiler", 6, 1),
        ("expandable_blockquote", 7, 1),
    ]
    assert entities[0]["language"] == "python"
    with pytest.raises(HtmlError, match=r"Tag .span. must have class"):
        parse_html("<span>x</span>")
    with pytest.raises(HtmlError, match="byte offset 3"):
        parse_html("ab <x>")  # offsets are in bytes, as Telegram reports them


# -- control API and command line -----------------------------------------------------------


async def test_control_api_round_trip(emu: Emulator, tg: Bot, http: httpx.AsyncClient) -> None:
    users = [{"id": 10 + i, "first_name": f"U{i}", "language_code": "fr"} for i in range(3)]
    assert (await http.post("/_emu/users", json=users)).json() == {"ok": True, "result": 3}
    assert emu.user(11).user["language_code"] == "fr"
    await http.post("/_emu/send", json={"user_id": 10, "text": "/start"})
    await http.post(
        "/_emu/upload", data={"user_id": "10"}, files={"file": ("a.txt", b"abc", "text/plain")}
    )
    updates = await tg.get_updates(timeout=1)
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert updates[1].message is not None and updates[1].message.document is not None
    sent = await tg.send_document(10, InputFile(b"PDF", filename="l.pdf"), reply_markup=keyboard(
        ("Done", "done")))  # fmt: skip
    listing = (await http.get("/_emu/chats/10/messages")).json()["result"]
    assert [m["message_id"] for m in listing] == [sent.message_id]
    assert listing[0]["buttons"] == [[{"text": "Done", "callback_data": "done", "url": None}]]
    download = await http.get(listing[0]["document"]["url"])
    assert download.content == b"PDF"

    tap = asyncio.create_task(
        http.post(
            "/_emu/tap", json={"user_id": 10, "message_id": sent.message_id, "button": "Done"}
        )
    )
    (cb,) = await tg.get_updates(offset=updates[-1].update_id + 1, timeout=2)
    assert cb.callback_query is not None
    await tg.answer_callback_query(cb.callback_query.id, text="ok")
    assert (await tap).json()["result"] == {"text": "ok", "show_alert": False, "url": None}
    no_answer = await http.post(
        "/_emu/tap",
        json={"user_id": 10, "message_id": sent.message_id, "button": "done", "timeout": 0.05},
    )
    assert no_answer.json() == {"ok": True, "result": None}

    config = await http.post("/_emu/config", json={"rate_limit": 5, "blocked": [12]})
    assert config.json()["result"]["rate_limit"] == 5 and emu.rate_limit == 5
    with pytest.raises(Forbidden):
        await tg.send_message(12, "x")
    await tg.set_my_commands([("start", "Démarrer")], language_code="fr")
    commands = (await http.get("/_emu/commands", params={"language_code": "fr"})).json()
    assert commands["result"] == [{"command": "start", "description": "Démarrer"}]
    stats = (await http.get("/_emu/stats")).json()["result"]
    assert stats["requests"]["sendDocument"] == 1 and stats["errors_by_code"]["403"] == 1


async def test_command_line_runs_standalone() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.emulator", "--port", "0", "--token", "1:CLI", "--inline",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert line.startswith("base_url=http://127.0.0.1:") and line.endswith("/bot")
        async with httpx.AsyncClient() as client:
            me = await client.get(line.removeprefix("base_url=") + "1:CLI/getMe")
        assert me.json()["result"]["username"] == "uabot_test_bot"
        assert me.json()["result"]["supports_inline_queries"] is True
    finally:
        proc.terminate()
        await proc.wait()


# -- inline mode ---------------------------------------------------------------------------


def article(n: int, **extra: object) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        str(n),
        f"Case {n}",
        InputTextMessageContent(
            f"<b>Case {n}</b>",
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("✍️ Write", url=f"https://t.me/uabot_test_bot?start=w-{n}")]]
        ),
        **extra,  # description etc., as the test needs
    )


async def test_inline_mode_follows_botfather(emu: Emulator, tg: Bot) -> None:
    assert (await tg.get_me()).supports_inline_queries is False  # a new bot, as at Telegram
    with pytest.raises(AssertionError, match="inline mode off"):
        await emu.user(1).inline("x")
    assert emu.stats.updates_enqueued == 0
    emu.inline_mode = True
    assert (await tg.get_me()).supports_inline_queries is True


async def test_inline_query_answer_and_chosen_result(emu: Emulator, tg: Bot) -> None:
    emu.inline_mode = emu.inline_feedback = True
    user = emu.user(1001, first_name="Ada", language_code="de", started=True)
    typing = asyncio.create_task(user.inline("kasach", offset=""))
    (update,) = await tg.get_updates(timeout=2)
    query = update.inline_query
    assert query is not None and query.query == "kasach" and query.offset == ""
    assert query.from_user.language_code == "de" and query.chat_type == "private"
    assert update.effective_chat is None  # no chat: the bot is not in the one typed in
    assert await tg.answer_inline_query(
        query.id, [article(1, description="Frist"), article(2)], cache_time=5,
        is_personal=True, next_offset="2",
    )  # fmt: skip
    answer = await typing
    assert [r["title"] for r in answer.results] == ["Case 1", "Case 2"]
    assert answer.results[0]["description"] == "Frist"
    assert (answer.cache_time, answer.is_personal, answer.next_offset) == (5, True, "2")
    assert answer.to_json()["results"] == answer.results
    with pytest.raises(BadRequest, match=r"(?i)query is too old and response timeout expired"):
        await tg.answer_inline_query(query.id, [])  # answered once only

    posted = await user.choose(answer, 1)
    assert posted.text == "Case 2" and posted.entities[0]["type"] == "bold"
    assert posted.buttons == [[Button("✍️ Write", url="https://t.me/uabot_test_bot?start=w-2")]]
    assert posted.via_bot is not None and posted.via_bot["username"] == "uabot_test_bot"
    assert posted.chat_id != user.id and user.other_chat.bot_messages == [posted]
    assert user.messages == []  # nothing in the private chat with the bot
    api = posted.to_api(user.other_chat.api_chat())
    assert api["from"]["id"] == 1001 and api["via_bot"]["id"] == 4242
    (chosen,) = await tg.get_updates(offset=update.update_id + 1, timeout=2)
    result = chosen.chosen_inline_result
    assert result is not None and (result.result_id, result.query) == ("2", "kasach")
    assert result.inline_message_id and result.from_user.id == 1001
    with pytest.raises(AssertionError, match=r"no inline result #5.*\['Case 1', 'Case 2'\]"):
        await user.choose(answer, 5)

    emu.inline_feedback = False  # without /setinlinefeedback, choosing tells the bot nothing
    await user.choose(answer, 0)
    assert await tg.get_updates(offset=chosen.update_id + 1) == ()


async def test_inline_answers_are_validated_as_telegram_does(
    emu: Emulator, tg: Bot, http: httpx.AsyncClient
) -> None:
    emu.inline_mode = True
    user = emu.user(7, started=True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await tg.answer_inline_query("12345", [])
    with pytest.raises(AssertionError, match="no answerInlineQuery"):
        await user.inline("late", timeout=0.05)
    (late,) = await tg.get_updates(timeout=1)
    assert late.inline_query is not None
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):  # it expired
        await tg.answer_inline_query(late.inline_query.id, [])
    offset = late.update_id + 1

    async def refused(results: list[object], **kwargs: object) -> str:
        nonlocal offset
        typing = asyncio.create_task(user.inline("q", timeout=5))
        (update,) = await tg.get_updates(offset=offset, timeout=2)
        offset = update.update_id + 1
        assert update.inline_query is not None
        try:
            with pytest.raises(BadRequest) as info:
                await tg.answer_inline_query(update.inline_query.id, results, **kwargs)
            # a refused answer leaves the query open: a correct one still arrives
            await tg.answer_inline_query(update.inline_query.id, [])
            assert (await typing).results == []
        finally:
            typing.cancel()
        return info.value.message.upper()  # PTB capitalises "Results_too_much"

    assert await refused([article(n) for n in range(51)]) == "RESULTS_TOO_MUCH"
    assert await refused([article(1), article(1)]) == "RESULT_ID_DUPLICATE"
    long_id = article(1)
    object.__setattr__(long_id, "id", "x" * 65)  # PTB does not check; Telegram does
    assert await refused([long_id]) == "RESULT_ID_INVALID"
    empty = InlineQueryResultArticle("1", "T", InputTextMessageContent(" "))
    assert await refused([empty]) == "MESSAGE_EMPTY"
    too_long = InlineQueryResultArticle("1", "T", InputTextMessageContent("x" * 4097))
    assert await refused([too_long]) == "MESSAGE_TOO_LONG"
    broken = InlineQueryResultArticle(
        "1", "T", InputTextMessageContent("<b>x", parse_mode=ParseMode.HTML)
    )
    assert "CAN'T PARSE ENTITIES" in await refused([broken])
    bad_url = InlineQueryResultArticle(
        "1", "T", InputTextMessageContent("x"),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("go", url="javascript:1")]]),
    )  # fmt: skip
    assert await refused([bad_url]) == "BUTTON_URL_INVALID"
    assert await refused([article(1)], next_offset="9" * 65) == "NEXT_OFFSET_INVALID"
    bad_start = InlineQueryResultsButton("Start", start_parameter="no spaces")
    assert await refused([], button=bad_start) == "START_PARAM_INVALID"

    # The control API: the web chat types and chooses through it.
    emu.user(8, started=True)
    typed = asyncio.create_task(http.post("/_emu/inline", json={"user_id": 8, "query": "x"}))
    (update,) = await tg.get_updates(offset=offset, timeout=2)
    assert update.inline_query is not None and update.inline_query.query == "x"
    button = InlineQueryResultsButton("Open the bot", start_parameter="inline")
    await tg.answer_inline_query(update.inline_query.id, [article(3)], button=button)
    listed = (await typed).json()["result"]
    assert [r["id"] for r in listed["results"]] == ["3"]
    assert listed["button"] == {"text": "Open the bot", "start_parameter": "inline"}
    chosen = await http.post("/_emu/inline/choose", json={"user_id": 8, "index": 0})
    body = chosen.json()["result"]
    assert (body["sender"], body["via_bot"], body["text"]) == ("user", "uabot_test_bot", "Case 3")
    assert body["buttons"][0][0]["url"] == "https://t.me/uabot_test_bot?start=w-3"
    other = (await http.get("/_emu/chats/8/other")).json()["result"]
    assert [m["text"] for m in other] == ["Case 3"]
    nothing = await http.post("/_emu/inline/choose", json={"user_id": 7, "index": 0})
    assert nothing.json() == {
        "ok": False,
        "description": "no inline result #0; the answer has 0: []",
    }
    off = await http.post("/_emu/config", json={"inline_mode": False})
    assert off.json()["result"]["inline_mode"] is False
    refused_off = await http.post("/_emu/inline", json={"user_id": 8, "query": "x"})
    assert "inline mode off" in refused_off.json()["description"]
