"""Typography of the translation catalogs: the rules, and a mechanical fix for French.

The rules are written in docs/translation-style.md; this is their one executable form.
tests/test_typography.py checks every catalog under locales/ with `problems()`, so a message
added or merged with a plain space before "?" fails there instead of leaving the "?" alone on
a line in Telegram. `make messages` ends with `make typography` (this script with --fix), which
applies the mechanical part (spaces, apostrophes, guillemet spaces) to the French catalogs in
place; wording stays a translator's job.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

# The fixer is the bot's own (it also typesets what admins write in French).
from bot.actions.typography import FR_HIGH_MARKS as _FR_HIGH_MARKS
from bot.actions.typography import NBSP, NNBSP, fix_french

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
DOMAIN = "uabot"

# A straight-quoted segment: kept only for code the reader types (TOML values, keys).
_STRAIGHT = re.compile(r'"[^"\n]*"')
_FIELD = re.compile(r"\{[^{}]*\}")
# German articles and pronouns that must not carry a gender colon/star/underscore/dot
# ("eine:r", "jede*r", "der:die"): neutral wording instead (docs/translation-style.md).
_DE_PRONOUN_MARK = re.compile(
    r"\b(?:ein|eine|einer|kein|keine|jede|jeder|dein|deine|sein|seine|ihr|ihre|unser|unsere|"
    r"euer|eure|der|die|dem|den|des|sie|er|welche|welcher|diese|dieser|jene|jener)"
    r"[:*_·/](?=[a-zäöüß])",
    re.IGNORECASE,
)
# French inclusive writing with median dots ("abonné·e·s", "tou·te·s"): neutral wording instead.
_FR_MEDIAN_DOT = re.compile(r"\w·\w")


def _language_and_region(locale: str) -> tuple[str, str]:
    """'de_CH' / 'de-CH' / 'de@formal' / 'fr' -> ('de', 'CH') / ('de', '') / ('fr', '')."""
    base = locale.split("@")[0].replace("-", "_")
    parts = base.split("_")
    region = next((p for p in parts[1:] if len(p) == 2 and p.isalpha() and p.isupper()), "")
    return parts[0].lower(), region


def _outside_fields(text: str) -> str:
    """The text with each {placeholder} blanked, so "{byte:02X}" is no colon to check."""
    return _FIELD.sub(lambda m: "x" * len(m.group()), text)


def _code_quotes_ok(msgid: str, msgstr: str) -> Iterator[str]:
    """Straight double quotes are for code the reader types: TOML values shown in the msgid, or
    an assignment (`role.fr = "…"`). Words quoted for the reader take the language's quotes."""
    for match in _STRAIGHT.finditer(msgstr):
        segment = match.group()
        before = msgstr[: match.start()].rstrip()
        if segment in msgid or before.endswith(("=", "[", ",")):
            continue
        yield f"straight quotes {segment}: use the language's quotation marks"


def problems(locale: str, msgid: str, msgstr: str) -> list[str]:
    """What breaks the catalog typography of `locale` in one translated string."""
    language, region = _language_and_region(locale)
    found = list(_code_quotes_ok(msgid, msgstr)) if language in ("fr", "de") else []
    text = _outside_fields(msgstr)
    if language == "fr":
        for match in _FR_HIGH_MARKS.finditer(text):
            if match.start() and text[match.start() - 1] != NNBSP:
                found.append(f"{match.group()!r} needs U+202F (narrow no-break space) before it")
        for match in re.finditer(r":(?=\s|$)", text):
            if text[match.start() - 1 : match.start()] != NBSP:
                found.append("':' needs U+00A0 (no-break space) before it")
        for match in re.finditer("«", text):
            if text[match.end() : match.end() + 1] != NNBSP:
                found.append("'«' needs U+202F after it")
        for match in re.finditer("»", text):
            if text[match.start() - 1 : match.start()] != NNBSP:
                found.append("'»' needs U+202F before it")
        if "'" in text:
            found.append("straight apostrophe: use ’ (U+2019)")
        if "“" in text or "”" in text or "„" in text:
            found.append("English or German quotes: use « »")
        if _FR_MEDIAN_DOT.search(msgstr):
            found.append("median-dot inclusive writing: use neutral wording")
    elif language == "de":
        if region == "CH":
            if "„" in text or "“" in text or "”" in text:
                found.append("de-CH quotes are «…», not „…“")
            if "ß" in text:
                found.append("de-CH writes ss, not ß")
            if re.search(r"«[^»]*$", text):
                found.append("'«' without '»'")
        else:
            if "«" in text or "»" in text or "”" in text:
                found.append("German quotes are „…“")
            stripped = re.sub(r"„[^“„]*“", "", text)
            if "„" in stripped or "“" in stripped:
                found.append("'„' and '“' must pair up: „…“")
        for match in _DE_PRONOUN_MARK.finditer(msgstr):
            found.append(f"gender mark inside a pronoun or article at {match.group()!r}…")
    else:
        # English and any language without its own rules: no space before punctuation.
        if re.search(r" [;:!?](?=\s|$)", text):
            found.append("a space before ; : ! or ?")
    for match in re.finditer(r"  +| +$|^ +", msgstr, flags=re.MULTILINE):
        found.append(f"stray spaces at {match.start()}")
        break
    return found


def forms(value: object) -> tuple[str, ...]:
    """A message's id or string as a tuple of forms (one for a singular message)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list):
        return tuple(str(form or "") for form in value)
    return ("",)


def _po_files() -> list[Path]:
    return sorted(LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _fix_catalogs() -> int:
    """Rewrite every French catalog with fix_french applied to each msgstr."""
    from babel.messages.pofile import read_po, write_po

    changed = 0
    for path in _po_files():
        locale = path.parent.parent.name
        if _language_and_region(locale)[0] != "fr":
            continue
        with path.open("rb") as file:
            catalog = read_po(file, locale=locale.replace("-", "_"), domain=DOMAIN)
        for message in catalog:
            if not message.id:
                continue
            raw = message.string
            fixed: str | tuple[str, ...] = (
                fix_french(raw)
                if isinstance(raw, str)
                else tuple(fix_french(s) for s in forms(raw))
            )
            if fixed != message.string:
                message.string = fixed
                changed += 1
        with path.open("wb") as file:
            write_po(file, catalog, width=76)
    return changed


def main(argv: list[str]) -> int:
    """`--fix`: rewrite French catalogs; otherwise list the problems of every catalog."""
    if argv[1:] == ["--fix"]:
        print(f"{_fix_catalogs()} French message(s) fixed")
        return 0
    from babel.messages.pofile import read_po

    count = 0
    for path in _po_files():
        locale = path.parent.parent.name
        with path.open("rb") as file:
            catalog = read_po(file, domain=DOMAIN)
        for message in catalog:
            if not message.id:
                continue
            ids = forms(message.id)
            for string in forms(message.string):
                for problem in problems(locale, " ".join(ids), string):
                    count += 1
                    print(f"{locale}: {ids[0]!r}: {problem}")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
