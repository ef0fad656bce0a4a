"""The sandbox: the web chat in a real browser (Debian's Chromium), and loopback-only binding.

The browser journey runs wherever /usr/bin/chromium and Playwright exist; in CI (CI=true) a
missing browser fails the test instead of skipping it, so it cannot silently stop running.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docx
import pytest

from bot.sandbox import HOST, Sandbox, sandbox

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


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    """A Chromium page; skipped without a browser, except in CI where that is a failure."""
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
            context = await browser.new_context(accept_downloads=True)
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
        "Die offenen Fälle"
    )
    await page.click("#menu-button")

    await send("/start")
    greeting = page.locator(".msg.bot", has_text="Willkommen!")
    await expect(greeting).to_have_count(1)
    await expect(greeting.locator("b").first).to_have_text("Willkommen!")  # entities rendered
    await tap(greeting, "Sprache ändern")
    picker = await pinned(page.locator(".msg.bot", has_text="Wähle deine Sprache"))
    await tap(picker, "Français")
    await expect(page.locator("#toast")).to_have_text("Langue choisie : Français.")
    await expect(picker.locator(".text")).to_have_text("Langue choisie : Français.")  # edited

    await send("/actions")
    listing = page.locator(".msg.bot", has_text="Actions en cours")
    await tap(listing, "UA 012/26")
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
    await expect(last_bot()).to_contain_text("Votre lettre (Français)")
    await tap(last_bot(), "Créer la lettre")

    link = page.locator("a.document")
    await expect(link).to_contain_text("UA-012-26-lettre-minister-of-justice-fr.docx")
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == "UA-012-26-lettre-minister-of-justice-fr.docx"
    letter = docx.Document(str(await download.path()))
    paragraphs = [p.text for p in letter.paragraphs]
    assert paragraphs[0] == "Lukas Meier"
    assert "Madame, Monsieur le Ministre," in paragraphs
    assert paragraphs[-1] == "Lukas Meier"

    await tap(card, "Je l’ai envoyée")
    await expect(page.locator("#toast")).to_contain_text("première lettre")
    await expect(card).to_contain_text("1 lettre envoyée")
    await expect(card.locator(".meta")).to_have_text("edited")


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
        same = await client.post(
            "/api/chats/9000/send",
            json={"text": "/stats"},
            headers={"Origin": web_chat.url.rstrip("/")},
        )
        assert same.status_code == 200
