"""The sandbox: the web chat in a real browser (Debian's Chromium), and loopback-only binding.

The browser journey runs wherever /usr/bin/chromium and Playwright exist; in CI (CI=true) a
missing browser fails the test instead of skipping it, so it cannot silently stop running.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest

from bot.actions.links import case_payload, deep_link, share_url, write_payload
from bot.actions.model import ActionRevision
from bot.actions.parse import parse_action
from bot.emulator import BOT_USER
from bot.i18n import format_date
from bot.ptb.context import BotData
from bot.sandbox import HOST, Sandbox, sandbox
from bot.sandbox.seed import EXAMPLE_ACTION, EXAMPLES, as_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


@pytest.fixture
async def web_chat() -> AsyncIterator[Sandbox]:
    """The seeded sandbox on a free port; ``web_chat.url`` is the page."""
    async with sandbox(port=0, poll_timeout=1) as started:
        yield started


async def test_the_example_cases_are_open_for_weeks_from_the_day_the_sandbox_starts(
    web_chat: Sandbox,
) -> None:
    """The files say March and December 2026; a newcomer sees deadlines weeks ahead of the
    day they start the sandbox (the bot's clock, fixed by the tests), whatever that day is."""
    today = BotData.today()
    emma = web_chat.emulator.user(1001)
    await emma.send("/start")
    await emma.receive_many(2)  # the welcome, then the open cases
    for example in EXAMPLES:
        original = _parsed(example.path)
        assert original.deadline is not None
        time_to_act = original.deadline - original.issued
        deadline = today - example.age + time_to_act
        assert deadline > today + timedelta(days=14)

        await emma.send("/actions")
        listing = await emma.receive()
        labels = [b.text for row in listing.buttons for b in row]
        (button,) = [label for label in labels if original.label in label]
        await emma.tap(listing, button)
        card = await emma.receive()
        assert f"Please write before {format_date(deadline, 'en')}." in card.text, card.text
        assert "passed" not in card.text


def _parsed(path: Path) -> ActionRevision:
    return parse_action(
        path.read_bytes(), source=str(path), languages=["en", "de", "fr"], default_language="en"
    )


def test_an_example_moved_in_time_keeps_its_time_to_act() -> None:
    example = _parsed(EXAMPLE_ACTION)
    moved = as_of(example, date(2030, 5, 10))
    assert example.deadline is not None and moved.deadline is not None
    assert moved.issued == date(2030, 5, 10)
    assert moved.deadline - moved.issued == example.deadline - example.issued
    assert moved.texts == example.texts and moved.case == example.case


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


# A phone (the chat list collapses) and a desktop screen (list and chat side by side).
WIDTHS = (400, 1280)


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
async def page(width: int) -> AsyncIterator[Any]:
    """A Chromium page ``width`` pixels wide; skipped without a browser, except in CI where
    that is a failure."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI must run the browser test: {missing}")
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                accept_downloads=True, viewport={"width": width, "height": 800}
            )
            context.set_default_timeout(TIMEOUT_MS)
            yield await context.new_page()
        finally:
            await browser.close()


async def test_a_german_supporter_switches_to_french_and_writes_a_letter(
    web_chat: Sandbox, page: Any
) -> None:
    from playwright.async_api import expect

    async def send(text: str) -> None:
        await page.fill("#text", text)
        await page.press("#text", "Enter")

    def last_bot() -> Any:
        return page.locator(".msg.bot").last

    async def tap(message: Any, label: str) -> None:
        await message.locator(".kb", has_text=label).first.click()

    async def pinned(message: Any) -> Any:
        """The same message by its id, whatever an edit does to its text."""
        message_id = await message.get_attribute("data-id")
        return page.locator(f'.msg[data-id="{message_id}"]')

    await page.goto(web_chat.url)
    await page.click('.person[data-user="1002"]')
    await expect(page.locator("#chat-sub")).to_contain_text("de-CH")
    # The command menu is the German one Telegram would show a de-CH user.
    await page.click("#menu-button")
    await expect(page.locator('.menu-item[data-command="/actions"]')).to_contain_text(
        "Offene Fälle anzeigen"
    )
    await page.click("#menu-button")

    await send("/start")
    greeting = page.locator(".msg.bot", has_text="Willkommen!")
    await expect(greeting).to_have_count(1)
    await expect(greeting.locator("b").first).to_have_text("Willkommen!")  # entities rendered
    await tap(greeting, "Sprache ändern")
    picker = await pinned(page.locator(".msg.bot", has_text="Wähle deine Sprache"))
    await tap(picker, "Français")
    await expect(page.locator("#toast")).to_have_text("Langue choisie\u00a0: Français.")
    await expect(picker.locator(".text")).to_have_text("Langue choisie\u00a0: Français.")  # edited

    await send("/actions")
    listing = page.locator(".msg.bot", has_text="Actions en cours")
    await tap(listing, "AU 012/26")  # French: action urgente
    card = await pinned(page.locator(".msg.bot", has_text="Nouvelle Action urgente"))
    await expect(card).to_contain_text("0 lettre envoyée")
    await tap(card, "Écrire une lettre")
    await tap(page.locator(".msg.bot", has_text="Dans quelle langue"), "✓ Français")
    await tap(page.locator(".msg.bot", has_text="À qui voulez-vous écrire"), "Minister of Justice")
    await expect(last_bot()).to_contain_text("Comment signer la lettre")
    await send("Lukas Meier")
    await expect(last_bot()).to_contain_text("Votre ville et votre pays")
    await tap(last_bot(), "Passer")
    await expect(last_bot()).to_contain_text("phrase personnelle")
    await tap(last_bot(), "Passer")
    await expect(last_bot()).to_contain_text("Votre lettre (français)")
    await tap(last_bot(), "Créer la lettre")

    link = page.locator("a.document")
    await expect(link).to_contain_text("AU-012-26-lettre-minister-of-justice-fr.docx")
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == "AU-012-26-lettre-minister-of-justice-fr.docx"
    letter = docx.Document(str(await download.path()))
    paragraphs = [p.text for p in letter.paragraphs]
    assert paragraphs[0] == "Lukas Meier"
    assert "Madame, Monsieur le Ministre," in paragraphs
    assert paragraphs[-1] == "Lukas Meier"

    await tap(card, "Je l’ai envoyée")
    await expect(page.locator("#toast")).to_contain_text("première lettre")
    await expect(card).to_contain_text("1 lettre envoyée")
    await expect(card.locator(".meta")).to_have_text("edited")


# Every word in the chat (bubbles and buttons) whose boxes lie on more than one line: split
# mid-word. Hyphens and slashes are places a word may wrap; links and code may break anywhere.
BROKEN_WORDS_JS = """(rootId) => {
  const broken = [];
  const root = document.getElementById(rootId);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("a:not(.kb), code, pre")) continue;
    for (const match of node.data.matchAll(/[^\\s\\-\\u2010-\\u2014\\/]+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()]
        .filter((box) => box.width > 0).map((box) => Math.round(box.bottom)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


async def _box(page: Any, selector: str) -> dict[str, float]:
    box = await page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return dict(box)


async def test_the_page_fits_the_screen_and_breaks_no_word(
    web_chat: Sandbox, page: Any, width: int
) -> None:
    """At 400 px one column at a time (list, or chat with a back arrow); at 1280 px both."""
    from playwright.async_api import expect

    phone = width < 700
    await page.goto(web_chat.url)
    await expect(page.locator("#sidebar")).to_be_visible()
    await expect(page.locator("#chat")).to_be_visible(visible=not phone)
    if phone:
        assert (await _box(page, "#sidebar"))["width"] == width  # the list fills the screen
    await page.click('.person[data-user="1001"]')
    await expect(page.locator("#chat")).to_be_visible()
    await expect(page.locator("#sidebar")).to_be_visible(visible=not phone)
    await expect(page.locator("#back")).to_be_visible(visible=phone)
    for text in ("/start", "/actions"):
        await page.fill("#text", text)
        await page.press("#text", "Enter")
    await page.locator(".msg.bot .kb", has_text="UA 012/26").last.click()  # /actions' list
    card = page.locator(".msg.bot", has_text="New Urgent Action")
    await expect(card).to_contain_text("letters sent")

    assert await page.evaluate(BROKEN_WORDS_JS, "messages") == []
    messages = await _box(page, "#messages")
    if phone:
        assert messages["width"] >= width - 1  # the whole screen, not ~140 px beside a list
    else:
        assert messages["x"] >= (await _box(page, "#sidebar"))["width"]
        assert messages["width"] >= 900
    bubble = await card.locator(".bubble").bounding_box()
    assert bubble is not None and bubble["width"] >= 0.8 * min(messages["width"], 700)
    assert bubble["x"] + bubble["width"] <= width
    assert await page.evaluate("document.documentElement.scrollWidth") <= width

    if phone:
        await page.click("#back")
        await expect(page.locator("#sidebar")).to_be_visible()
        await expect(page.locator("#chat")).to_be_hidden()
        await page.click('.person[data-user="1001"]')  # the chat is still there
        await expect(card).to_contain_text("letters sent")


BOT = BOT_USER["username"]


async def test_typing_at_bot_lists_cases_and_choosing_one_shares_it_with_a_friend(
    web_chat: Sandbox, page: Any, width: int
) -> None:
    """Inline mode as a newcomer meets it: no /start first; the card goes to the friend chat,
    and its "Write a letter" link comes back to the bot as /start write-…."""
    from playwright.async_api import expect

    await page.goto(web_chat.url)
    await page.click('.person[data-user="1001"]')
    await expect(page.locator("#inline-note")).to_contain_text(f"@{BOT}")
    results = page.locator("#inline-results .inline-result")
    await page.locator("#text").press_sequentially(f"@{BOT} ")
    await expect(results).to_have_count(2)  # both open cases
    await page.locator("#text").press_sequentially("kaz")
    await expect(results).to_have_count(1)
    await expect(results.locator(".title")).to_have_text("Activist held for speaking about camps")
    await expect(results.locator(".description")).to_contain_text("UA 014/26")
    await expect(results.locator(".description")).to_contain_text("Please write before")
    assert await page.evaluate(BROKEN_WORDS_JS, "inline-results") == []
    box = await _box(page, "#inline-results")
    assert box["x"] + box["width"] <= width

    await results.click()
    await expect(page.locator("#inline-results")).to_be_hidden()
    await expect(page.locator("#tab-friend")).to_have_class("tab active")
    posted = page.locator(".msg.user", has_text="UA 014/26")
    await expect(posted.locator(".via")).to_have_text(f"via @{BOT}")
    await expect(posted).to_contain_text("Activist held for speaking about camps")
    write = posted.locator("a.kb", has_text="Write a letter")
    await expect(write).to_have_attribute("href", deep_link(BOT, write_payload("UA 014/26")))
    assert await page.evaluate(BROKEN_WORDS_JS, "messages") == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= width

    await write.click()  # as a Telegram app does: the bot's chat, /start <payload>
    await expect(page.locator("#tab-bot")).to_have_class("tab active")
    await expect(page.locator(".msg.user")).to_have_text([f"/start {write_payload('UA 014/26')}"])
    await expect(page.locator(".msg.bot")).not_to_have_count(0)

    # A card's Share button is Telegram's share dialog: here it opens the friend chat with
    # "@bot " typed, as no other chat exists offline.
    share = share_url(deep_link(BOT, case_payload("UA 012/26")), "A case")
    await page.evaluate(
        "(href) => { const a = link(href, ['Share']); document.body.append(a); a.click(); }", share
    )
    await expect(page.locator("#tab-friend")).to_have_class("tab active")
    await expect(page.locator("#text")).to_have_value(f"@{BOT} ")
    await expect(results).to_have_count(2)


async def test_the_inline_api_keeps_earlier_answers_choosable(web_chat: Sandbox) -> None:
    """Typing on sends newer queries; a result of an earlier answer can still be chosen, and
    one the sandbox never gave is refused."""
    import httpx

    async with httpx.AsyncClient(base_url=web_chat.url.rstrip("/"), timeout=10) as client:
        assert (await client.get("/api/bot")).json() == {"username": BOT, "inline": True}
        everything = (await client.post("/api/chats/1003/inline", json={"query": ""})).json()
        titles = [result["title"] for result in everything["results"]]
        assert len(titles) == 2 and everything["answered"]
        narrowed = (await client.post("/api/chats/1003/inline", json={"query": "belg"})).json()
        assert [r["title"] for r in narrowed["results"]] == [
            "Une journaliste détenue pour avoir enquêté sur des centres de rétention"
        ]  # Camille types in French: her language's titles, countries filtered as she names them
        kazakhstan = titles.index("Un militant détenu pour avoir parlé des camps")
        chosen = await client.post(
            "/api/chats/1003/inline/choose",
            json={"query_id": everything["query_id"], "index": kazakhstan},
        )
        assert chosen.status_code == 200
        unknown = await client.post(
            "/api/chats/1003/inline/choose", json={"query_id": "nope", "index": 0}
        )
        assert unknown.status_code == 404
        other = (await client.get("/api/chats/1003/other/messages")).json()["messages"]
        (card,) = other
        assert card["sender"] == "user" and card["via_bot"] == BOT
        assert "AU 014/26" in card["text"]  # French: action urgente
        assert card["buttons"][0][0]["url"] == deep_link(BOT, write_payload("UA 014/26"))
        assert web_chat.emulator.user(1003).chat.transcript == []  # nothing in the bot's chat


async def test_bot_text_is_rendered_as_text_never_as_markup(web_chat: Sandbox, page: Any) -> None:
    """A name with markup in it comes back in the review as literal text, not as elements."""
    from playwright.async_api import expect

    await page.goto(web_chat.url)
    await page.click('.person[data-user="1001"]')
    for text in ("/start", "/actions"):
        await page.fill("#text", text)
        await page.press("#text", "Enter")
        await expect(page.locator(".msg.user")).to_have_count(1 if text == "/start" else 2)
    # /start's newest open cases and /actions both offer the case: either opens its card.
    await page.locator(".msg.bot .kb", has_text="UA 012/26").last.click()
    await page.locator(".msg.bot .kb", has_text="Write a letter").first.click()
    await page.locator(".msg.bot .kb", has_text="✓ English").click()
    await page.locator(".msg.bot .kb", has_text="Minister of Justice").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("letter be signed")
    await page.fill("#text", "A. <img src=x onerror=alert(1)>")
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("city and country")
    await page.locator(".msg.bot").last.locator(".kb", has_text="Skip").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("sentence of your own")
    await page.locator(".msg.bot").last.locator(".kb", has_text="Skip").click()
    review = page.locator(".msg.bot").last
    await expect(review).to_contain_text("Dear Minister,")
    await expect(review).to_contain_text("<img src=x onerror=alert(1)>")
    assert await page.locator("#messages img").count() == 0


async def test_the_sandbox_listens_on_loopback_only(web_chat: Sandbox) -> None:
    """Bound to 127.0.0.1, not 0.0.0.0: 127.0.0.2 (also loopback) must be refused."""
    assert [address[0] for address in web_chat.addresses] == [HOST]
    ports = [web_chat.port, web_chat.emulator.port]
    assert web_chat.emulator.host == HOST
    for port in ports:
        _reader, writer = await asyncio.open_connection(HOST, port)
        writer.close()
        await writer.wait_closed()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.2", port)
    other = _non_loopback_address()
    if other is not None:
        with pytest.raises(OSError):
            await asyncio.open_connection(other, web_chat.port)


def _non_loopback_address() -> str | None:
    """This machine's outward address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_the_api_refuses_other_hosts_and_cross_site_posts(web_chat: Sandbox) -> None:
    """A page on another site (or a rebound DNS name) cannot act as a sandbox user."""
    import httpx

    async with httpx.AsyncClient(base_url=web_chat.url.rstrip("/")) as client:
        ok = await client.get("/api/users")
        assert ok.status_code == 200 and any(u["admin"] for u in ok.json())
        rebound = await client.get("/api/users", headers={"Host": f"evil.example:{web_chat.port}"})
        assert rebound.status_code == 403
        forged = await client.post(
            "/api/chats/9000/send",
            json={"text": "/stats"},
            headers={"Origin": "http://evil.example"},
        )
        assert forged.status_code == 403
        for path, body in (
            ("/api/chats/1001/inline", {"query": ""}),
            ("/api/chats/1001/inline/choose", {"query_id": "1", "index": 0}),
        ):
            refused = await client.post(path, json=body, headers={"Origin": "http://evil.example"})
            assert refused.status_code == 403
        same = await client.post(
            "/api/chats/9000/send",
            json={"text": "/stats"},
            headers={"Origin": web_chat.url.rstrip("/")},
        )
        assert same.status_code == 200


# -- the group chat (issue 15) ---------------------------------------------------------------


async def test_the_group_chat_is_seeded_and_acts_as_its_members(web_chat: Sandbox) -> None:
    """Noor created the group with the three supporters and added the bot (which introduced
    itself); the API writes as members only, and a member who is no admin cannot /session."""
    import httpx

    emulator = web_chat.emulator
    async with httpx.AsyncClient(base_url=web_chat.url.rstrip("/")) as client:
        (group,) = (await client.get("/api/groups")).json()
        assert group["title"] == "Local group" and group["type"] == "group"
        statuses = {m["id"]: m["status"] for m in group["members"]}
        assert statuses == {1004: "creator", 1001: "member", 1002: "member", 1003: "member"}
        noor = next(u for u in (await client.get("/api/users")).json() if u["id"] == 1004)
        assert noor["name"] == "Noor (group admin)" and not noor["admin"]
        sim = emulator.find_group(group["id"])
        await emulator.wait_until(lambda: bool(sim.messages), timeout=10)
        assert "/session" in sim.messages[0].text  # the bot's introduction

        stranger = await client.post(
            f"/api/groups/{group['id']}/send", json={"as": 9000, "text": "/help"}
        )
        assert stranger.status_code == 400  # the bot's admin is no member of the group
        sent = await client.post(
            f"/api/groups/{group['id']}/send", json={"as": 1001, "text": "/session"}
        )
        assert sent.status_code == 200
        await emulator.wait_until(lambda: len(sim.messages) == 2, timeout=10)
        assert "admins" in sim.messages[-1].text and not sim.messages[-1].buttons
        transcript = (await client.get(f"/api/groups/{group['id']}/messages")).json()
        mine = [m for m in transcript["messages"] if m["sender"] == "user"]
        assert [(m["from"], m["text"]) for m in mine] == [("Emma", "/session")]


async def test_the_group_admin_starts_a_session_and_a_member_writes_from_it(
    web_chat: Sandbox, page: Any
) -> None:
    """In the page: the group in the chat list, /session as Noor, the session message; as
    Lukas, "Write my letter" opens his private chat with the letter in German; back in the
    group, his "I sent it" there counts (the toast is his only)."""
    from playwright.async_api import expect

    await page.goto(web_chat.url)
    await page.click(".person.group")
    await expect(page.locator("#chat-title")).to_have_text("👥 Local group")
    await expect(page.locator("#as")).to_have_value("1004")  # its admin, first
    await expect(page.locator(".msg.bot").first).to_contain_text("/session")
    await page.fill("#text", "/session UA 012/26 30")
    await page.press("#text", "Enter")
    session = page.locator(".msg.bot", has_text="Writing session · UA 012/26")
    await expect(session).to_contain_text("UA 012/26")
    await expect(session).to_contain_text("0 letters from this group")
    await expect(page.locator(".msg.user .from")).to_have_text(["Noor"])

    await page.select_option("#as", "1002")
    await session.locator("a.kb", has_text="Write my letter").click()
    await expect(page.locator("#chat-sub")).to_contain_text("de-CH")
    # The session's token, not its (guessable) row id.
    link = re.compile(r"^/start session-[A-Za-z0-9_-]{22}$")
    await expect(page.locator(".msg.user")).to_have_text([link])
    await expect(page.locator(".msg.bot", has_text="Willkommen!")).to_contain_text(
        "nicht für Benachrichtigungen angemeldet"
    )
    await expect(page.locator(".msg.bot").last).to_contain_text("In welcher Sprache")

    if await page.locator("#back").is_visible():  # a phone: the chat list first
        await page.click("#back")
    await page.click(".person.group")
    await page.select_option("#as", "1003")
    session = page.locator(".msg.bot", has_text="Writing session · UA 012/26")
    await session.locator("button.kb", has_text="I sent it").click()
    # Camille never wrote a letter: her answer (hers only) sends her to write it first.
    await expect(page.locator("#toast")).to_contain_text("Écrivez d’abord votre lettre")
    await expect(session).to_contain_text("0 letters from this group")


async def test_the_bots_admin_opened_the_bot_and_the_group_may_let_the_bot_pin(
    web_chat: Sandbox,
) -> None:
    """No 403 at start (the seeded admin opened the bot before, as a real admin has); the
    group's creator lets the bot pin (a control of the page), and a session's message is
    then pinned, as a newcomer should see it."""
    import httpx

    emulator = web_chat.emulator
    async with httpx.AsyncClient(base_url=web_chat.url.rstrip("/")) as client:
        (group,) = (await client.get("/api/groups")).json()
        assert group["bot_status"] == "member"
        sim = emulator.find_group(group["id"])
        await emulator.wait_until(lambda: bool(sim.messages), timeout=10)
        assert emulator.stats.errors_by_code[403] == 0, emulator.stats.errors_by_code
        promoted = await client.post(f"/api/groups/{group['id']}/promote", json={})
        assert promoted.json() == {"bot_status": "administrator"}
        (group,) = (await client.get("/api/groups")).json()
        assert group["bot_status"] == "administrator"
        await client.post(
            f"/api/groups/{group['id']}/send", json={"as": 1004, "text": "/session UA 012/26 30"}
        )
        await emulator.wait_until(lambda: sim.pinned is not None, timeout=10)
        assert sim.pinned is not None and "UA 012/26" in (sim.pinned.text or "")


async def test_in_the_group_view_only_the_group_shows_and_its_entry_is_highlighted(
    web_chat: Sandbox, page: Any, width: int
) -> None:
    """The Bot/Friend tabs belong to a person's chats: hidden in the group's view; the
    group's entry in the list is highlighted across the whole list, as a person's is."""
    from playwright.async_api import expect

    await page.goto(web_chat.url)
    await page.click(".person.group")
    await expect(page.locator("#chat-title")).to_have_text("👥 Local group")
    await expect(page.locator("#chat-tabs")).to_be_hidden()
    await expect(page.locator("#promote")).to_be_visible()
    if await page.locator("#back").is_visible():  # a phone: the chat list first
        await page.click("#back")
    entry = await _box(page, ".person.group")
    person = await _box(page, '.person[data-user="1001"]')
    assert entry["width"] == person["width"], (entry, person)
