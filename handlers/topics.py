"""/topics: what reaches a supporter, in one message edited in place.

Everything (the default), or chosen topics, countries and regions. Countries are picked from
the cases published so far or through CLDR's regions (continent, subregion, its countries),
a page of buttons at a time so it stays usable on a phone. No conversation state: each button
says which view to show, the database says what is followed.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.actions import audience
from bot.i18n import format_number, ngettext, territory_name
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import following
from bot.services.following import COUNTRY, REGION, TOPIC, Selection
from handlers.replies import answer, edit, query_of, say, user_of

MENU = "menu"
TOPICS = "topics"
CASES = "cases"  # the countries of the published cases: <page>
AREA = "area"  # a region: <code>:<page>
# What a follow-set button does, in its data: a second tap, or a tap in an older message,
# then asks for what the label showed, not for the opposite of the state now.
ON, OFF = "on", "off"
COUNTRIES_PER_PAGE = 10  # two a row: five rows of buttons fit a phone's screen
# Past this many countries (or regions) the summary counts them: all 257 countries by name in
# French come near Telegram's 4,096 characters, and no one reads such a list.
NAMES_SHOWN = 20

Screen = tuple[str, InlineKeyboardMarkup]


def _name(kind: str, code: str) -> str:
    return audience.topic_name(code) if kind == TOPIC else territory_name(code)


def _mark(followed: bool, label: str) -> str:
    return ("✓ " if followed else "") + label


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def _back(*view: object) -> list[InlineKeyboardButton]:
    return [_button("« " + _("Back"), callbacks.FOLLOW.data(*view))]


def _territories(codes: frozenset[str]) -> str:
    """Countries' or regions' names, in the reader's alphabetical order."""
    return ", ".join(map(territory_name, audience.by_name(codes)))


def summary(selection: Selection, paused: bool = False) -> str:
    """What reaches the supporter, in words; while alerts are paused, that first."""
    lines = []
    if paused:
        lines.append(_("Alerts are paused (/subscribe turns them on). When they are on:"))
    if selection.everything:
        lines.append(
            _("You follow everything: every new case will reach you.")
            if paused
            else _("You follow everything: every new case reaches you.")
        )
    else:
        lines.append(_("New cases reach you when they concern one of these:"))
        if selection.topics:
            names = ", ".join(map(audience.topic_name, audience.topics_by_name(selection.topics)))
            lines.append("• " + _("Topics: {names}").format(names=names))
        if count := len(selection.countries):
            lines.append(
                "• "
                + (
                    _("Countries: {names}").format(names=_territories(selection.countries))
                    if count <= NAMES_SHOWN
                    else ngettext(
                        "Countries: {count} chosen", "Countries: {count} chosen", count
                    ).format(count=format_number(count))
                )
            )
        if count := len(selection.regions):
            lines.append(
                "• "
                + (
                    _("Regions: {names}").format(names=_territories(selection.regions))
                    if count <= NAMES_SHOWN
                    else ngettext(
                        "Regions: {count} chosen", "Regions: {count} chosen", count
                    ).format(count=format_number(count))
                )
            )
    lines.append(_("Follow-ups and closures of the cases you opened or wrote for reach you too."))
    return "\n".join(lines)


def _menu(selection: Selection, paused: bool = False) -> Screen:
    text = "<b>" + escape(_("What reaches you")) + "</b>\n" + escape(summary(selection, paused))
    keyboard = [
        [
            _button(
                _mark(selection.everything, "🌐 " + _("Everything")), callbacks.FOLLOW_ALL.data()
            )
        ],
        [_button("🏷 " + _("Topics"), callbacks.FOLLOW.data(TOPICS))],
        [_button("📍 " + _("Countries of the cases"), callbacks.FOLLOW.data(CASES, 0))],
        [
            _button(
                "🌍 " + _("Regions and all countries"),
                callbacks.FOLLOW.data(AREA, audience.WORLD, 0),
            )
        ],
    ]
    return text, InlineKeyboardMarkup(keyboard)


def _toggle(selection: Selection, kind: str, code: str, *view: object) -> InlineKeyboardButton:
    followed = code in selection.of(kind)
    return _button(
        _mark(followed, _name(kind, code)),
        callbacks.FOLLOW_SET.data(kind, code, OFF if followed else ON, *view),
    )


def _topics(selection: Selection) -> Screen:
    text = (
        "<b>" + escape(_("Topics")) + "</b>\n" + escape(_("Tap a topic to follow it or to stop."))
    )
    rows = [
        [_toggle(selection, TOPIC, code, TOPICS)]
        for code in audience.topics_by_name(audience.TOPIC_NAMES)
    ]
    return text, InlineKeyboardMarkup([*rows, _back(MENU)])


def _page_of(codes: list[str], page: int) -> tuple[list[str], int, int]:
    """The codes on ``page`` (clamped), the page and the number of pages."""
    pages = max(1, -(-len(codes) // COUNTRIES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    return codes[page * COUNTRIES_PER_PAGE : (page + 1) * COUNTRIES_PER_PAGE], page, pages


def _countries(
    selection: Selection, codes: list[str], page: int, *view: object
) -> tuple[list[list[InlineKeyboardButton]], str]:
    """Two country buttons a row, ◀️ ▶️ between pages; and the "page x of y" words."""
    shown, page, pages = _page_of(codes, page)
    buttons = [_toggle(selection, COUNTRY, code, *view, page) for code in shown]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = []
    if page > 0:
        nav.append(_button("◀️", callbacks.FOLLOW.data(*view, page - 1)))
    if page < pages - 1:
        nav.append(_button("▶️", callbacks.FOLLOW.data(*view, page + 1)))
    if nav:
        rows.append(nav)
    words = _("(page {page} of {pages})").format(page=page + 1, pages=pages) if pages > 1 else ""
    return rows, words


def _cases(selection: Selection, codes: list[str], page: int) -> Screen:
    heading = _("Countries of the cases")
    if codes:
        rows, words = _countries(selection, audience.by_name(codes), page, CASES)
        hint = _("Tap a country to follow it or to stop.")
    else:
        rows, words, hint = [], "", _("No case has been published yet.")
    text = "<b>" + escape(f"{heading} {words}".strip()) + "</b>\n" + escape(hint)
    other = [_button("🌍 " + _("Other countries"), callbacks.FOLLOW.data(AREA, audience.WORLD, 0))]
    return text, InlineKeyboardMarkup([*rows, other, _back(MENU)])


def _area(selection: Selection, code: str, page: int) -> Screen:
    """The world (its continents), a continent (all of it, its subregions) or a subregion
    (all of it, its countries)."""
    if code == audience.WORLD:
        text = "<b>" + escape(_("Regions")) + "</b>\n" + escape(_("Choose a part of the world."))
        rows = [
            [
                _button(
                    _mark(part in selection.regions, territory_name(part) + " ›"),
                    callbacks.FOLLOW.data(AREA, part, 0),
                )
            ]
            for part in audience.by_name(audience.continents())
        ]
        return text, InlineKeyboardMarkup([*rows, _back(MENU)])
    name = territory_name(code)
    whole = _button(
        _mark(code in selection.regions, _("All of {region}").format(region=name)),
        callbacks.FOLLOW_SET.data(
            REGION, code, OFF if code in selection.regions else ON, AREA, code, page
        ),
    )
    parts = audience.subregions(code)
    words = ""
    if parts:
        rows = [
            [
                _button(
                    _mark(part in selection.regions, territory_name(part) + " ›"),
                    callbacks.FOLLOW.data(AREA, part, 0),
                )
            ]
            for part in audience.by_name(parts)
        ]
    else:
        rows, words = _countries(
            selection, audience.by_name(audience.countries_in(code)), page, AREA, code
        )
    hint = (
        _("Follow all of it, or tap a part to open it.")
        if parts
        else _("Follow all of it, or tap a country to follow it or to stop.")
    )
    text = "<b>" + escape(f"{name} {words}".strip()) + "</b>\n" + escape(hint)
    return text, InlineKeyboardMarkup([[whole], *rows, _back(AREA, audience.parent(code), 0)])


async def _screen(context: Context, user_id: int, view: tuple[str, ...]) -> Screen | None:
    """The screen a button names, or None for data the bot never builds."""
    selection = await following.selection(context.storage, user_id)
    name, args = view[0], view[1:]
    if name == MENU and not args:
        return _menu(selection, await _paused(context, user_id))
    if name == TOPICS and not args:
        return _topics(selection)
    if name == CASES and len(args) == 1 and (page := callbacks.number(args[0])) is not None:
        return _cases(selection, await following.case_countries(context.storage), page)
    if name == AREA and len(args) == 2:
        code, page = args[0], callbacks.number(args[1])
        if page is not None and (code == audience.WORLD or audience.is_region(code)):
            return _area(selection, code, page)
    return None


async def _paused(context: Context, user_id: int) -> bool:
    """Whether the user paused alerts (/unsubscribe): then nothing they follow reaches them."""
    user = await context.storage.users.get(user_id)
    return user is not None and not user.subscribed


async def _edit(update: Update, screen: Screen) -> None:
    """Show ``screen`` in place (a double tap's second edit changes nothing: see ``edit``)."""
    await edit(update, *screen)


async def _stale(update: Update) -> None:
    await answer(update, _("This button no longer works. /help lists what I can do."), alert=True)


async def topics(update: Update, context: Context) -> None:
    """/topics (and the button under /start): the summary and the menu, in a new message."""
    user_id = user_of(update).id
    user = await context.storage.users.get(user_id)
    if user is None:
        await say(update, escape(_("Send /start first: then you can choose what reaches you.")))
        return
    selection = await following.selection(context.storage, user_id)
    text, markup = _menu(selection, not user.subscribed)
    await say(update, text, markup=markup)


async def open_menu(update: Update, context: Context) -> None:
    """The start message's button: the menu as a new message (the welcome stays)."""
    await answer(update)
    await topics(update, context)


async def show(update: Update, context: Context) -> None:
    """Another view of the same message: topics, countries, a region, a page."""
    parsed = callbacks.FOLLOW.parse(query_of(update).data, str, optional=2)
    screen = None if parsed is None else await _screen(context, user_of(update).id, parsed.values)
    if screen is None:
        await _stale(update)
        return
    await answer(update)
    await _edit(update, screen)


async def choose(update: Update, context: Context) -> None:
    """Follow or unfollow one topic, country or region, as the button says, then show the
    same view again. Buttons of before the state was in the data (``<kind>:<code>:<view>``)
    are stale: what they meant is unknown."""
    parsed = callbacks.FOLLOW_SET.parse(query_of(update).data, str, str, str, str, optional=2)
    if parsed is None or parsed.text(2) not in (ON, OFF):
        await _stale(update)
        return
    kind, code, state = parsed.text(0), parsed.text(1), parsed.text(2) == ON
    user_id = user_of(update).id
    if not await following.choose(context.storage, user_id, kind, code, state):
        await answer(
            update, _("Send /start first: then you can choose what reaches you."), alert=True
        )
        return
    screen = await _screen(context, user_id, parsed.values[3:])
    name = _name(kind, code)
    await answer(
        update,
        (_("Following: {name}.") if state else _("No longer following: {name}.")).format(
            name=name
        ),
    )
    if screen is not None:
        await _edit(update, screen)


async def everything(update: Update, context: Context) -> None:
    """Follow everything again (forgets the choice)."""
    user_id = user_of(update).id
    await following.follow_everything(context.storage, user_id)
    await answer(update, _("You follow everything again."))
    selection = await following.selection(context.storage, user_id)
    await _edit(update, _menu(selection, await _paused(context, user_id)))


def register(app: Application) -> None:
    app.add_handlers(
        [
            CommandHandler("topics", topics, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(open_menu, pattern=callbacks.FOLLOW.pattern(arity=0)),
            CallbackQueryHandler(show, pattern=callbacks.FOLLOW.pattern()),
            CallbackQueryHandler(choose, pattern=callbacks.FOLLOW_SET.pattern()),
            CallbackQueryHandler(everything, pattern=callbacks.FOLLOW_ALL.pattern()),
        ]
    )
