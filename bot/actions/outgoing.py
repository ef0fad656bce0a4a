"""What a published revision sends: the broadcast renderer for kind "action"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from bot.actions.importer import load
from bot.actions.render import card
from bot.config import Config
from bot.i18n import reader_language, use_locale
from bot.ptb.text import Rendered
from bot.storage import Broadcast, Storage

# The broadcast engine's ``MessagesFor``, written out so that bot.actions does not import
# bot.broadcast (the engine sends what this renders; mypy checks the match in bot.app).
MessagesFor = Callable[[str, date | None], Rendered]


def action_renderer(
    storage: Storage, config: Config, bot_username: str, today: Callable[[], date]
) -> Callable[[Broadcast], Awaitable[MessagesFor]]:
    """Render the revision's card once per language (and, for a follow-up or a closure, per
    day its readers last wrote for the case), with the count and the date (``today``, the
    bot's clock) at the broadcast's start."""
    default = config.i18n.default_language

    async def render(broadcast: Broadcast) -> MessagesFor:
        assert broadcast.case_number is not None and broadcast.revision is not None
        revision = await load(storage, broadcast.case_number, broadcast.revision)
        if revision is None:
            raise LookupError(f"broadcast {broadcast.id}: its revision is gone")
        count = await storage.tally.count(revision.case)
        people = await storage.tally.people(revision.case)
        on = today()

        def for_language(language: str, wrote_on: date | None) -> Rendered:
            language = reader_language(config.i18n, language)
            with use_locale(language):
                return card(
                    revision,
                    default,
                    count,
                    bot_username=bot_username,
                    wrote_on=wrote_on,
                    people=people,
                    today=on,
                )

        return for_language

    return render
