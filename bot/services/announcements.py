"""Announcements: an admin's message to every subscriber, through the broadcast engine.

The texts per language travel in the broadcast's payload (JSON), so an interrupted
announcement resumes like any other broadcast. Subscribers whose language the admin skipped
get the default language.
"""

from __future__ import annotations

import json
from datetime import date

from bot.actions.typography import typeset
from bot.broadcast.engine import MessagesFor, Renderer
from bot.config import Config
from bot.i18n import gettext as _
from bot.i18n import reader_language, use_locale
from bot.ptb.text import Rendered, escape, pack, paragraphs
from bot.storage import Broadcast

KIND = "announcement"
TEXT_MAX = 3500


def payload(texts: dict[str, str]) -> str:
    return json.dumps(texts, ensure_ascii=False, sort_keys=True)


def message(text: str) -> Rendered:
    """The announcement as a subscriber sees it, in the current locale."""
    return Rendered(pack(["📢 <b>" + escape(_("Announcement")) + "</b>", *paragraphs(text)]), None)


def for_language(config: Config, texts: dict[str, str], language: str) -> Rendered:
    """The announcement for a reader of ``language``: their text, else the default language's
    (the one choice, for the broadcast and the admin's preview alike)."""
    language = reader_language(config.i18n, language)
    written_in = language if texts.get(language) else config.i18n.default_language
    with use_locale(language):
        # French typography on what the admin typed, as the preview shows it too.
        return message(typeset(texts[written_in], written_in))


def announcement_renderer(config: Config) -> Renderer:
    async def render(broadcast: Broadcast) -> MessagesFor:
        texts: dict[str, str] = json.loads(broadcast.payload or "{}")

        def rendered(language: str, wrote_on: date | None) -> Rendered:
            return for_language(config, texts, language)

        return rendered

    return render
