"""Generate the mechanical variant catalogs from their base: ``make variants``.

Swiss German writes "ss" for "ß" and «…» for „…“: that much is mechanical, so
``locales/de_CH/LC_MESSAGES/uabot.po`` (and ``de_CH@formal`` from ``locales/de@formal``) are
made here, never edited by hand. What is Swiss but not mechanical (a word Switzerland says
otherwise) is written in ``locales/<variant>/manual.po``, which this tool merges over the
transformed base before it compares. A variant catalog holds only the messages that differ
from what gettext's fallback chain would give without it (``bot.i18n.fallbacks``:
de_CH@formal, de@formal, de_CH, de), so the base catalogs stay the one place a wording is
decided, and manual.po the one place a Swiss exception is.

    python tools/variants.py           # rewrite the generated catalogs
    python tools/variants.py --check   # exit 1 when one is out of date (the tests run this)

Conventions per variant: docs/translation-style.md.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, FORMAL, LOCALES_DIR, fallbacks

Strings = Mapping[str | tuple[str, ...], str | tuple[str, ...]]

_SWISS = str.maketrans({"ß": "ss", "ẞ": "SS", "„": "«", "“": "»", "‚": "‹", "‘": "›"})


def swiss(text: str) -> str:
    """Swiss German spelling and quotes: ß -> ss, „…“ -> «…», ‚…‘ -> ‹…›."""
    return text.translate(_SWISS)


# The generated locales and how each is made from its base (the same locale without the
# country): de_CH from de, de_CH@formal from de@formal (over de).
TRANSFORMS: dict[str, Callable[[str], str]] = {"de_CH": swiss, f"de_CH@{FORMAL}": swiss}


# Hand-written differences of a generated variant: outside LC_MESSAGES, so that only this
# tool reads them (and the generated catalog carries them to gettext and the tests).
MANUAL = "manual.po"


def _po(name: str) -> Path:
    return LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def _manual(locale: str) -> dict[str | tuple[str, ...], str | tuple[str, ...]]:
    """The hand-written entries of ``locale`` (``locales/<locale>/manual.po``), if any."""
    path = LOCALES_DIR / locale / MANUAL
    if not path.is_file():
        return {}
    with path.open("rb") as file:
        messages = read_po(file, locale=locale.partition("@")[0], domain=DOMAIN)
    found = {}
    for message in messages:
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and all(forms) and not message.fuzzy:
            found[message.id] = message.string
    return found


def _read(name: str) -> Catalog:
    with _po(name).open("rb") as file:
        return read_po(file, locale=name.partition("@")[0], domain=DOMAIN)


def _strings(chain: list[str]) -> dict[str | tuple[str, ...], str | tuple[str, ...]]:
    """What gettext finds through ``chain``: the first catalog's translation of each message."""
    found: dict[str | tuple[str, ...], str | tuple[str, ...]] = {}
    for name in chain:
        if not _po(name).is_file():
            continue
        for message in _read(name):
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and all(forms) and not message.fuzzy:
                found.setdefault(message.id, message.string)
    return found


def _transform(
    string: str | tuple[str, ...], change: Callable[[str], str]
) -> str | tuple[str, ...]:
    return tuple(change(form) for form in string) if isinstance(string, tuple) else change(string)


def generate(locale: str) -> str:
    """The catalog text of ``locale``: its base's messages transformed, kept where they differ
    from what the rest of the chain gives."""
    change = TRANSFORMS[locale]
    chain = fallbacks(locale)
    base = [name for name in chain if "_" not in name.partition("@")[0]]
    rest = chain[1:]
    template = _read(base[-1])
    below = _strings(rest)
    catalog = Catalog(
        locale=locale.partition("@")[0],
        domain=DOMAIN,
        project="uabot",
        header_comment=(
            f"# {locale}: made by tools/variants.py from {' over '.join(base)}.\n"
            f"# Do not edit: change {base[0]} (or, for what is not mechanical,\n"
            f"# locales/{locale}/{MANUAL}), then run `make variants`.\n"
            "# Conventions: docs/translation-style.md\n"
        ),
        # Dates that only a translator's edit moves, so that regenerating changes nothing.
        creation_date=template.revision_date,
        revision_date=template.revision_date,
        fuzzy=False,
    )
    # Only the nearest base is transformed here: what de_CH@formal does not get from de@formal
    # comes through de_CH, hand-written differences included.
    own = _strings(base[:1])
    mechanical = {msgid: _transform(string, change) for msgid, string in own.items()}
    manual = _manual(locale)
    for msgid, wanted in sorted({**mechanical, **manual}.items(), key=lambda item: repr(item[0])):
        if below.get(msgid) != wanted:
            comments = [f"manual: locales/{locale}/{MANUAL}"] if msgid in manual else []
            catalog.add(msgid, wanted, user_comments=comments)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76, no_location=True, omit_header=False, sort_output=True)
    return buffer.getvalue().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale catalogs")
    args = parser.parse_args(argv)
    stale = []
    # In order: de_CH@formal is what differs from the chain below it, de_CH included.
    for locale in TRANSFORMS:
        if not all(_po(name).is_file() for name in fallbacks(locale) if "_" not in name):
            continue  # its base is not there (a checkout without the formal catalog)
        path, text = _po(locale), generate(locale)
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(LOCALES_DIR.parent)}")
    if args.check and stale:
        print("out of date (run `make variants`): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
