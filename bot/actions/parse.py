"""Action files (TOML) -> ``ActionRevision``, reporting every problem of a file at once.

Admins write these files by hand. One check must show all their mistakes, each naming the key,
what is wrong and what is expected, so a file is fixed in one round instead of one per mistake.
Typos must never pass silently: unknown keys and unconfigured languages are problems too.
Files also come from outside (an upload, the feed), so every size, depth and number the format
accepts is bounded here, and anything wrong with a file is an ``ActionFileError``, never another
exception: one bad file must not stop the files after it.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from bot.actions import audience
from bot.actions.model import (
    ADDRESS_MAX,
    ADDRESSEES_MAX,
    AI_INDEX_MAX,
    ANY_LANGUAGE,
    BODY_MAX,
    CLOSING_MAX,
    DATE_MAX,
    DATE_MIN,
    EMAIL_MAX,
    LETTER_BODY_MAX,
    LETTER_LANGUAGES_MAX,
    OUTCOME_MAX,
    OUTCOMES,
    PERSONAL_MAX,
    PREFIX_MAX,
    REVISION_MAX,
    ROLE_MAX,
    SALUTATION_MAX,
    STATUS_CLOSED,
    STATUS_OPEN,
    STATUSES,
    SUBJECT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    TOPICS,
    UPDATE_MAX,
    ActionRevision,
    Addressee,
    CaseText,
    LetterTemplate,
)
from bot.config import closest
from bot.i18n import (
    N_,
    canonical_language,
    current_locale,
    formal_address,
    format_number,
    informal_address,
    is_language_code,
    language_name,
    strings_language,
)
from bot.i18n import gettext as _
from bot.text_input import CONTROL_CHARACTERS

Table = dict[str, Any]

# The largest action file accepted, by upload, by the feed and by `uabot check`: real files
# are 10-40 KB, and a bound keeps a mistaken or hostile file from costing memory and time.
MAX_FILE_BYTES = 512 * 1024
# How deeply lists and inline tables may nest, and how many names one dotted key may join.
# Valid files use 2 and 3; tomllib recurses per level (1,000 levels raise RecursionError) and
# spends quadratic time and memory on the parts of a dotted key (8,000 parts: 0.6 s, 260 MB).
MAX_NESTING = 8
MAX_KEY_PARTS = 8
# Keys and values quoted in problems are cut to this many characters: a problem is one line.
_SHOWN_MAX = 60
# Past this many problems a file is not a draft with typos, and did-you-mean suggestions
# (difflib, ~80 µs a key) would cost seconds on a file of 50,000 unknown keys: they are left out.
_SUGGESTIONS_UNTIL = 100


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: ``key`` is a dotted path, ``""`` for the file as a whole."""

    key: str
    message: str

    def describe(self, source: str) -> str:
        """The one-line form shown to admins: ``<source>: <key>: <message>``, its colons from
        the catalog (French puts a no-break space before them)."""
        if not self.key:
            # Translators: a problem in an action file: the file's name, then the problem.
            return _("{file}: {problem}").format(file=source, problem=self.message)
        # Translators: a problem in an action file: the file's name, the key, the problem.
        return _("{file}: {key}: {problem}").format(
            file=source, key=self.key, problem=self.message
        )


class ActionFileError(ValueError):
    """A file that cannot be imported, with all of its problems (never only the first)."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(source, self.problems)

    def __str__(self) -> str:
        return "\n".join(problem.describe(self.source) for problem in self.problems)


@dataclass(frozen=True)
class _StringSpec:
    """How one string value is checked; ``expected`` is marked with N_ and translated late."""

    expected: str
    limit: int | None = None
    required: bool = True
    multiline: bool = False


_TOP_KEYS = (
    "case", "revision", "ai_index", "country", "issued", "deadline", "status", "closed_on",
    "addressees", "text", "letter", "preferred_languages", "topics",
    "outcome",
)  # fmt: skip

_CASE = _StringSpec(N_('the case number like "UA 046/19"'))
_AI_INDEX = _StringSpec(
    N_('the publisher\'s document index like "EUR 57/0894/2019"'), AI_INDEX_MAX, required=False
)
_COUNTRY = _StringSpec(N_('the country code: two capital letters like "KZ"'))
_STATUS = _StringSpec(N_('"open" or "closed"'))
_OUTCOME = _StringSpec(N_('"good", "mixed" or "bad"'), required=False)

_ADDRESSEE_FIELDS = {
    "role": _StringSpec(N_('who the addressee is, like "Prosecutor General"'), ROLE_MAX),
    "address": _StringSpec(
        N_("the postal address, one line per address line"),
        ADDRESS_MAX,
        required=False,
        multiline=True,
    ),
    "email": _StringSpec(N_('an e-mail address like "office@example.org"'), EMAIL_MAX, False),
}
_ADDRESSEE_KEYS = (*_ADDRESSEE_FIELDS, "copy", "salutation", "closing")
_ROLE_EXPECTED = N_(
    "the role as text in quotes, or a table with the role per language code "
    '(role.en = "Prosecutor General", role.de = "Generalstaatsanwalt")'
)
_SALUTATION = _StringSpec(
    N_('the salutation for this addressee like "Dear Prosecutor General,"'), SALUTATION_MAX
)
_CLOSING = _StringSpec(
    N_('the closing for this addressee like "Yours respectfully,"'), CLOSING_MAX
)
_LANGUAGE_CODE_EXPECTED = N_('a language code like "ru" or "kk" (ISO 639)')
_TEXT_FIELDS = {
    "title": _StringSpec(N_("a short title"), TITLE_MAX),
    "summary": _StringSpec(
        N_("a short summary that fits a push message"), SUMMARY_MAX, multiline=True
    ),
    "body": _StringSpec(N_("the full text of the case"), BODY_MAX, multiline=True),
    "update": _StringSpec(
        N_("what changed since the previous revision"), UPDATE_MAX, False, multiline=True
    ),
    "outcome": _StringSpec(N_("how the case ended"), OUTCOME_MAX, False, multiline=True),
}
_LETTER_FIELDS = {
    "salutation": _StringSpec(
        N_('the salutation like "Dear Prosecutor General,"'), SALUTATION_MAX
    ),
    "body": _StringSpec(N_("the text of the letter"), LETTER_BODY_MAX, multiline=True),
    "closing": _StringSpec(N_('the closing like "Yours sincerely,"'), CLOSING_MAX),
    "subject": _StringSpec(
        N_('the subject line like "Serikzhan Bilash, Kazakhstan"'), SUBJECT_MAX, False
    ),
    "subject_prefix": _StringSpec(
        N_('the words before the subject like "Betreff:"'), PREFIX_MAX, False
    ),
    "copies_prefix": _StringSpec(
        N_('the words before the copies like "Kopie an:"'), PREFIX_MAX, False
    ),
}

_DATE_EXPECTED = N_("a date like 2019-09-27 (without quotes)")
_REVISION_EXPECTED = N_("a whole number: 1 for the first action, 2 and up for follow-ups")

_CASE_RE = re.compile(r"UA [0-9]{1,4}/[0-9]{2}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--{_LABEL})")
_TOML_POSITION_RE = re.compile(
    r"^(?P<reason>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$"
)
# What a quoted key or value must not bring into a one-line problem (a terminal's escapes too):
# the one definition of control characters (bot.text_input) plus the tab and line feed
# it lets through, which typed text may hold but which would break a one-line problem.
_UNSHOWABLE_RE = re.compile(f"[\t\n]|{CONTROL_CHARACTERS.pattern}")
# What the nesting scan steps over whole, since strings and comments may hold brackets, dots
# and quotes (an unterminated string runs to the end, where tomllib reports it), and the
# characters it follows. Possessive quantifiers keep a long string linear.
_SCAN_RE = re.compile(
    r'''"""(?:[^"\\]++|\\.|"(?!""))*+(?:""""{0,2}|\Z)'''
    r"""|'''(?:[^']++|'(?!''))*+(?:''''{0,2}|\Z)"""
    r"""|"(?:[^"\\\n]++|\\[^\n])*+"?"""
    r"""|'[^'\n]*+'?"""
    r"|#[^\n]*+"
    r"|[\[\]{},=.\n]",
    re.DOTALL,
)


@dataclass(frozen=True)
class CheckedAction:
    """A valid file's revision and its warnings: things that work, but likely not as meant."""

    revision: ActionRevision
    warnings: list[Problem]


def parse_action(
    data: bytes | str, *, source: str, languages: Sequence[str], default_language: str
) -> ActionRevision:
    """Parse and validate one action file; raise ``ActionFileError`` listing every problem."""
    return check_action(
        data, source=source, languages=languages, default_language=default_language
    ).revision


def check_action(
    data: bytes | str,
    *,
    source: str,
    languages: Sequence[str],
    default_language: str,
    today: date | None = None,
) -> CheckedAction:
    """``parse_action`` with the file's warnings (``warnings``; a deadline already past only
    when ``today`` is given), which never fail it."""
    if default_language not in languages:
        raise ValueError(f"default language {default_language!r} is not in {list(languages)!r}")
    reader = _Reader(tuple(languages), default_language)
    document = _load(data, reader)
    revision = _read_document(document, reader) if document is not None else None
    if revision is None or reader.problems:
        raise ActionFileError(source, reader.problems)
    return CheckedAction(revision, warnings(revision, today))


def too_large(source: str, size: int) -> ActionFileError:
    """The problem of a file over ``MAX_FILE_BYTES`` (an upload is refused before download)."""
    message = _("too large: {size} bytes; expected an action file of at most {limit} bytes")
    sizes = {"size": format_number(size), "limit": format_number(MAX_FILE_BYTES)}
    return ActionFileError(source, [Problem("", message.format(**sizes))])


def _load(data: bytes | str, reader: _Reader) -> Table | None:
    """Decode and parse; a file that is not UTF-8 TOML has one problem, with its position."""
    if isinstance(data, str):
        # One path for both: a lone surrogate becomes bytes that UTF-8 decoding reports.
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_FILE_BYTES:
        reader.problems.extend(too_large("", len(data)).problems)
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Notepad's "Unicode"
        reader.report("", _("saved as UTF-16: save it as UTF-8"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        reader.report(
            "",
            _(
                "not UTF-8 text: invalid byte 0x{byte:02X} on line {line}; "
                "expected a file saved as UTF-8"
            ).format(byte=data[error.start], line=line),
        )
        return None
    text = text.replace("\r\n", "\n")
    nesting = _nesting_problem(text)
    if nesting is not None:
        reader.report("", nesting)
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        reader.report("", _toml_problem(str(error)))
    except RecursionError:  # the scan above should have caught it: a second line of defence
        reader.report("", _nested_too_deeply(None))
    except ValueError as error:  # an integer of more than 4,300 digits
        reader.report("", _toml_problem(str(error)))
    return None


def _nested_too_deeply(line: int | None) -> str:
    if line is None:
        return _(
            "nested too deeply: more than {limit} levels of lists and inline tables; "
            "expected the layout of docs/action-files.md"
        ).format(limit=MAX_NESTING)
    return _(
        "nested too deeply at line {line}: more than {limit} levels of lists and inline "
        "tables; expected the layout of docs/action-files.md"
    ).format(line=line, limit=MAX_NESTING)


def _nesting_problem(text: str) -> str | None:
    """Check nesting and dotted keys before tomllib meets them (it recurses, and is quadratic).

    A light scan of TOML's structure: it steps over strings and comments, follows lists and
    inline tables, and counts the parts of each key and ``[table]`` header. A file it misreads
    is invalid TOML, which tomllib then reports; RecursionError stays caught as a backstop.
    """
    line = 1
    containers: list[str] = []  # "[" or "{" for each open list and inline table
    in_key = True  # reading a key or a [table] header, where dots separate parts
    header = False
    parts = 1
    for match in _SCAN_RE.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
            if not containers:
                in_key, header, parts = True, False, 1
        elif token[0] in "\"'#":
            line += token.count("\n")
        elif token == ".":
            if in_key:
                parts += 1
                if parts > MAX_KEY_PARTS:
                    return _(
                        "key with too many parts at line {line}: more than {limit} names "
                        "joined by dots; expected keys like text.en.title"
                    ).format(line=line, limit=MAX_KEY_PARTS)
        elif token == "=":
            if in_key and not header:
                in_key, parts = False, 1
        elif token in "[{":
            if in_key and not containers and token == "[":
                header = True  # [table] or [[array of tables]]
            elif not in_key:
                containers.append(token)
                if len(containers) > MAX_NESTING:
                    return _nested_too_deeply(line)
                in_key, parts = token == "{", 1
        elif token in "]}":
            if containers and containers[-1] == ("[" if token == "]" else "{"):
                containers.pop()
                in_key = False
            elif header:
                in_key = header = False
        elif token == "," and containers:
            in_key, parts = containers[-1] == "{", 1
    return None


# tomllib's reasons (in English) as the admin reads them; a reason not listed here (another
# Python's wording) is shown as tomllib gives it.
_TOML_REASONS = {
    "Invalid statement": N_("this line is no key = value, [table] or comment"),
    "Expected newline or end of document after a statement": N_(
        "one key = value per line: something follows the value"
    ),
    "Invalid value": N_("the value is not valid TOML (text needs quotes)"),
    "Cannot overwrite a value": N_("this key already has a value"),
    "Expected '=' after a key in a key/value pair": N_('a key needs "=" and a value'),
    "Expected ']' at the end of a table declaration": N_('a [table] needs its closing "]"'),
    "Expected ']]' at the end of an array declaration": N_('a [[table]] needs its closing "]]"'),
    "Invalid initial character for a key part": N_("a key cannot start with this character"),
    "Unclosed array": N_('a list needs its closing "]"'),
    "Unclosed inline table": N_("an inline table (in braces) is not closed"),
    "Unterminated string": N_("a text needs its closing quote"),
    "Unescaped '\\' in a string": N_('a "\\" in a text needs to be written "\\\\"'),
    "Invalid hex value": N_("a \\u escape needs hexadecimal digits"),
    "Escaped character is not a Unicode scalar value": N_("a \\u escape names no character"),
    "Invalid date or datetime": N_("this is no valid date"),
}
_TOML_REASON_PATTERNS = (
    (re.compile(r"Cannot declare (?P<key>.+) twice"), N_("{key} is declared twice")),
    (re.compile(r"Cannot redefine namespace (?P<key>.+)"), N_("{key} is declared twice")),
    (re.compile(r"Cannot mutate immutable namespace (?P<key>.+)"), N_("{key} cannot change")),
    (re.compile(r"Duplicate inline table key (?P<key>.+)"), N_("{key} is there twice")),
    (re.compile(r"Illegal character (?P<char>.+)"), N_("the character {char} is not allowed")),
    (re.compile(r"Found invalid character (?P<char>.+)"), N_("{char} is unexpected here")),
    (re.compile(r"Expected (?P<char>.+)"), N_("{char} is missing")),
)


def _toml_reason(reason: str) -> str:
    """tomllib's reason in the reader's language where it is one of tomllib's known ones."""
    known = _TOML_REASONS.get(reason)
    if known is not None:
        return _(known)
    for pattern, text in _TOML_REASON_PATTERNS:
        if match := pattern.fullmatch(reason):
            return _(text).format(**match.groupdict())
    return reason


def _toml_problem(error: str) -> str:
    """Reword tomllib's message so the line and column come first (3.11 has no attributes)."""
    match = _TOML_POSITION_RE.match(error)
    if match is None:
        return _(
            "not valid TOML: {reason}; expected key = value lines as in docs/action-files.md"
        ).format(reason=_toml_reason(error))
    return _(
        "not valid TOML at line {line}, column {column}: {reason}; "
        "expected key = value lines as in docs/action-files.md"
    ).format(**{**match.groupdict(), "reason": _toml_reason(match.group("reason"))})


def _shown(text: str) -> str:
    """A key or value as quoted in a problem: control characters escaped, long ones cut."""
    text = _UNSHOWABLE_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _join(path: str, name: str) -> str:
    name = _shown(name)
    return f"{path}.{name}" if path else name


def _type_name(value: object) -> str:
    """How a TOML value's type is named to admins (bool before int, datetime before date)."""
    match value:
        case bool():
            return _("a boolean")
        case int():
            return _("an integer")
        case float():
            return _("a decimal number")
        case str():
            return _("a string")
        case datetime():
            return _("a date and time")
        case date():
            return _("a date")
        case time():
            return _("a time")
        case dict():
            return _("a table")
        case list():
            return _("a list")
    return type(value).__name__


def _clean(value: str, multiline: bool) -> str:
    """Strip surrounding whitespace; in multi-line values also each line's trailing spaces."""
    if not multiline:
        return value.strip()
    return "\n".join(line.rstrip() for line in value.split("\n")).strip()


class _Reader:
    """Reads typed values out of TOML tables, collecting problems instead of stopping."""

    def __init__(self, languages: tuple[str, ...], default_language: str) -> None:
        self.languages = languages
        self.default_language = default_language
        self.problems: list[Problem] = []

    def report(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    def missing(self, key: str, expected: str) -> None:
        self.report(key, _("missing required key; expected {expected}").format(expected=expected))

    def wrong_type(self, key: str, value: object, expected: str) -> None:
        self.report(
            key,
            _("wrong type: got {got}, expected {expected}").format(
                got=_type_name(value), expected=expected
            ),
        )

    def unknown_keys(self, table: Table, allowed: Iterable[str], path: str) -> None:
        """Every key not in ``allowed`` is a problem, with the closest known key if any."""
        allowed = list(allowed)
        for name in table:
            if name in allowed:
                continue
            suggestion = (
                closest(name, allowed) if len(self.problems) < _SUGGESTIONS_UNTIL else None
            )
            if suggestion:
                message = _('unknown key "{key}"; did you mean "{suggestion}"?').format(
                    key=_shown(name), suggestion=suggestion
                )
            else:
                message = _('unknown key "{key}"; expected one of {keys}').format(
                    key=_shown(name), keys=", ".join(allowed)
                )
            self.report(_join(path, name), message)

    def string(self, table: Table, name: str, path: str, spec: _StringSpec) -> str | None:
        """A cleaned string, or None (after reporting) when missing or not acceptable."""
        key = _join(path, name)
        expected = _(spec.expected)
        if name not in table:
            if spec.required:
                self.missing(key, expected)
            return None
        value = table[name]
        if not isinstance(value, str):
            self.wrong_type(key, value, _("text in quotes: {expected}").format(expected=expected))
            return None
        return self._checked_text(key, _clean(value, spec.multiline), spec, expected)

    def _checked_text(self, key: str, text: str, spec: _StringSpec, expected: str) -> str | None:
        control = CONTROL_CHARACTERS.search(text)  # "\r\n" was made "\n"
        if control is not None:
            self.report(
                key,
                _(
                    "control character U+{code} at position {position}; expected plain text "
                    "(only tabs and line breaks are allowed)"
                ).format(code=f"{ord(control.group()):04X}", position=control.start() + 1),
            )
            return None
        if not spec.multiline and "\n" in text:
            self.report(
                key,
                _("line break in a one-line value; expected {expected} on one line").format(
                    expected=expected
                ),
            )
            return None
        if not text:
            self.report(key, _("empty; expected {expected}").format(expected=expected))
            return None
        if spec.limit is not None and len(text) > spec.limit:
            self.report(
                key,
                _("too long: {length} characters; expected at most {limit}").format(
                    length=len(text), limit=spec.limit
                ),
            )
            return None
        return text

    def integer(self, table: Table, name: str, expected: str) -> int | None:
        """An integer (a TOML boolean is not one), or None after reporting."""
        if name not in table:
            self.missing(name, expected)
            return None
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(name, value, expected)
            return None
        return value

    def date(self, table: Table, name: str, *, required: bool) -> date | None:
        """A TOML date (not a string, not a date and time), or None after reporting."""
        if name not in table:
            if required:
                self.missing(name, _(_DATE_EXPECTED))
            return None
        value = table[name]
        if isinstance(value, datetime) or not isinstance(value, date):
            self.wrong_type(name, value, _(_DATE_EXPECTED))
            return None
        if not DATE_MIN <= value <= DATE_MAX:
            self.report(
                name,
                _("{value} is out of range; expected a date from {first} to {last}").format(
                    value=value.isoformat(), first=DATE_MIN.isoformat(), last=DATE_MAX.isoformat()
                ),
            )
            return None
        return value

    def language_code(self, key: str, code: str) -> bool:
        """Whether ``code`` is a language code babel knows (reported when not)."""
        if is_language_code(code):
            return True
        current = canonical_language(code)
        if current is not None:
            self.report(
                key,
                _(
                    '"{language}" is not the current code of {name}; use {current}, not {language}'
                ).format(
                    language=_shown(code),
                    name=language_name(current, current_locale.get()),
                    current=current,
                ),
            )
            return False
        self.report(
            key,
            _('unknown language code "{language}"; expected {expected}').format(
                language=_shown(code), expected=_(_LANGUAGE_CODE_EXPECTED)
            ),
        )
        return False

    def language_tables(
        self, table: Table, path: str, *, any_language: bool = False
    ) -> Iterable[tuple[str, str, Table]]:
        """(language, path, table) for each configured language (with ``any_language``, each
        language babel knows); reports the others."""
        for language, value in table.items():
            key = _join(path, language)
            if any_language:
                if not self.language_code(key, language):
                    continue
                if not isinstance(value, dict):
                    self.wrong_type(key, value, _("a table written [{key}]").format(key=key))
                else:
                    yield language, key, value
            elif language not in self.languages:
                self.report(
                    key,
                    _(
                        'language "{language}" is not configured; expected one of {languages}'
                    ).format(language=_shown(language), languages=", ".join(self.languages)),
                )
            elif not isinstance(value, dict):
                self.wrong_type(key, value, _("a table written [{key}]").format(key=key))
            else:
                yield language, key, value


def _read_document(document: Table, reader: _Reader) -> ActionRevision | None:
    """Check every part of the file; build the revision only when nothing is wrong."""
    reader.unknown_keys(document, _TOP_KEYS, "")
    _check_counts(document, reader)
    case = _read_case(document, reader)
    revision = _read_revision(document, reader)
    ai_index = reader.string(document, "ai_index", "", _AI_INDEX)
    country = _read_country(document, reader)
    issued = reader.date(document, "issued", required=True)
    deadline = reader.date(document, "deadline", required=False)
    status = _read_status(document, reader)
    closed_on = reader.date(document, "closed_on", required=False)
    _check_after_issued(reader, "deadline", deadline, issued)
    _check_after_issued(reader, "closed_on", closed_on, issued)
    _check_closure(document, reader, status)
    outcome = _read_outcome(document, reader, status)
    addressees = _read_addressees(document, reader)
    texts = _read_texts(document, reader, revision, status)
    letters = _read_letters(document, reader)
    preferred = _read_preferred_languages(document, reader)
    topics = _read_topics(document, reader)
    if reader.problems or case is None or revision is None or country is None:
        return None
    if issued is None or status is None:
        return None
    return ActionRevision(
        case=case,
        revision=revision,
        ai_index=ai_index,
        country=country,
        issued=issued,
        deadline=deadline,
        status=status,
        closed_on=closed_on,
        addressees=addressees,
        texts=texts,
        letters=letters,
        preferred_languages=preferred,
        outcome=outcome,
        topics=topics,
    )


def _read_case(document: Table, reader: _Reader) -> str | None:
    value = reader.string(document, "case", "", _CASE)
    if value is None or _CASE_RE.fullmatch(value):
        return value
    reader.report(
        "case",
        _('not a case number: "{value}"; expected {expected}').format(
            value=_shown(value), expected=_(_CASE.expected)
        ),
    )
    return None


def _read_revision(document: Table, reader: _Reader) -> int | None:
    value = reader.integer(document, "revision", _(_REVISION_EXPECTED))
    if value is None or 1 <= value <= REVISION_MAX:
        return value
    if value < 1:
        message = _("{value} is less than 1; expected {expected}")
    else:
        message = _("{value} is more than {limit}; expected {expected}")
    reader.report(
        "revision",
        message.format(
            value=_shown(str(value)), limit=REVISION_MAX, expected=_(_REVISION_EXPECTED)
        ),
    )
    return None


def _read_country(document: Table, reader: _Reader) -> str | None:
    """The country's ISO code, one CLDR places in a region: any other ("XX", "EU") would
    reach no follower of a country or region."""
    value = reader.string(document, "country", "", _COUNTRY)
    if value is None or audience.is_country(value):
        return value
    suggestion = audience.country_meant(value, reader.languages)
    if suggestion is not None:
        reader.report(
            "country",
            _('not a country code: "{value}"; did you mean "{suggestion}"?').format(
                value=_shown(value), suggestion=suggestion
            ),
        )
    elif _COUNTRY_RE.fullmatch(value):
        reader.report(
            "country",
            _(
                'unknown country code: "{value}"; expected the ISO 3166-1 code of a country '
                'like "KZ"'
            ).format(value=value),
        )
    else:
        reader.report(
            "country",
            _(
                'not a country code: "{value}"; expected two capital letters (ISO 3166-1) '
                'like "KZ"'
            ).format(value=_shown(value)),
        )
    return None


def _read_status(document: Table, reader: _Reader) -> str | None:
    value = reader.string(document, "status", "", _STATUS)
    if value is None or value in STATUSES:
        return value
    reader.report(
        "status",
        _('unknown status "{value}"; expected "open" or "closed"').format(value=_shown(value)),
    )
    return None


def _check_counts(document: Table, reader: _Reader) -> None:
    """What the format repeats is bounded, like every other size (text languages by config)."""
    addressees = document.get("addressees")
    if isinstance(addressees, list) and len(addressees) > ADDRESSEES_MAX:
        reader.report(
            "addressees",
            _("too many: {count} addressees; expected at most {limit}").format(
                count=format_number(len(addressees)), limit=ADDRESSEES_MAX
            ),
        )
    for key in ("letter", "preferred_languages"):
        value = document.get(key)
        if isinstance(value, dict | list) and len(value) > LETTER_LANGUAGES_MAX:
            reader.report(
                key,
                _("too many: {count} languages; expected at most {limit}").format(
                    count=format_number(len(value)), limit=LETTER_LANGUAGES_MAX
                ),
            )


def _check_after_issued(
    reader: _Reader, name: str, value: date | None, issued: date | None
) -> None:
    """A deadline or closing date before the issue date is a typo in the year or month."""
    if value is None or issued is None or value >= issued:
        return
    reader.report(
        name,
        _("{value} is before issued ({issued}); expected a date on or after {issued}").format(
            value=value.isoformat(), issued=issued.isoformat()
        ),
    )


def _check_closure(document: Table, reader: _Reader, status: str | None) -> None:
    """``closed_on`` goes with ``status = "closed"`` and only with it."""
    if status == STATUS_CLOSED and "closed_on" not in document:
        reader.missing(
            "closed_on", _('the closing date like 2019-08-26, because status is "closed"')
        )
    elif status == STATUS_OPEN and "closed_on" in document:
        reader.report(
            "closed_on",
            _(
                'closed_on given but status is "open"; expected status = "closed" with closed_on, '
                "or no closed_on"
            ),
        )


def _read_outcome(document: Table, reader: _Reader, status: str | None) -> str | None:
    """A closure's outcome kind: "good", "mixed" or "bad" (optional; not while open)."""
    value = reader.string(document, "outcome", "", _OUTCOME)
    if value is None:
        return None
    if status == STATUS_OPEN:
        reader.report(
            "outcome",
            _('outcome given but status is "open"; expected outcome only with status = "closed"'),
        )
        return None
    if value in OUTCOMES:
        return value
    suggestion = closest(value, OUTCOMES)
    reader.report(
        "outcome",
        (
            _('unknown outcome "{value}"; did you mean "{suggestion}"?')
            if suggestion
            else _('unknown outcome "{value}"; expected {expected}')
        ).format(value=_shown(value), suggestion=suggestion, expected=_(_OUTCOME.expected)),
    )
    return None


def _read_addressees(document: Table, reader: _Reader) -> tuple[Addressee, ...]:
    expected = _("at least one [[addressees]] table with a role and an address or an email")
    if "addressees" not in document:
        reader.missing("addressees", expected)
        return ()
    value = document["addressees"]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        reader.wrong_type("addressees", value, expected)
        return ()
    if not value:
        reader.report("addressees", _("empty; expected {expected}").format(expected=expected))
    found = (
        _read_addressee(item, f"addressees[{index}]", reader)
        for index, item in enumerate(value, start=1)
    )
    return tuple(addressee for addressee in found if addressee is not None)


def _read_addressee(table: Table, path: str, reader: _Reader) -> Addressee | None:
    """Addressees are numbered from 1 in problem keys: ``addressees[1]`` is the first table."""
    reader.unknown_keys(table, _ADDRESSEE_KEYS, path)
    roles = _read_roles(table, path, reader)
    address, email = (
        reader.string(table, name, path, _ADDRESSEE_FIELDS[name]) for name in ("address", "email")
    )
    copy = table.get("copy", False)
    if not isinstance(copy, bool):
        reader.wrong_type(f"{path}.copy", copy, _("true or false (without quotes)"))
        copy = False
    salutations = _read_language_strings(table, "salutation", path, reader, _SALUTATION)
    closings = _read_language_strings(table, "closing", path, reader, _CLOSING)
    if "address" not in table and "email" not in table:
        reader.report(path, _("no address and no email; expected an address, an email or both"))
    if email is not None and not _EMAIL_RE.fullmatch(email):
        reader.report(
            f"{path}.email",
            _('not a plausible e-mail address: "{value}"; expected {expected}').format(
                value=email, expected=_(_ADDRESSEE_FIELDS["email"].expected)
            ),
        )
        return None
    if roles is None or salutations is None or closings is None:
        return None
    if address is None and email is None:
        return None
    return Addressee(roles, address, email, copy=copy, salutations=salutations, closings=closings)


def _read_roles(table: Table, path: str, reader: _Reader) -> dict[str, str] | None:
    """A plain string (the same in every language) or a table of roles per language, which
    must name the role in the default language (what other languages fall back to)."""
    spec = _ADDRESSEE_FIELDS["role"]
    value = table.get("role")
    if not isinstance(value, dict):
        if value is not None and not isinstance(value, str):
            reader.wrong_type(f"{path}.role", value, _(_ROLE_EXPECTED))
            return None
        role = reader.string(table, "role", path, spec)
        return None if role is None else {ANY_LANGUAGE: role}
    roles = _read_language_strings(table, "role", path, reader, spec)
    default = reader.default_language
    if roles is not None and default not in value:
        reader.missing(
            f"{path}.role.{default}",
            _("the role in the default language ({language})").format(
                language=language_name(default, current_locale.get())
            ),
        )
        return None
    return roles


def _read_language_strings(
    table: Table, name: str, path: str, reader: _Reader, spec: _StringSpec
) -> dict[str, str] | None:
    """An optional table of one string per language code (any language babel knows)."""
    key = _join(path, name)
    value = table.get(name, {})
    if not isinstance(value, dict):
        reader.wrong_type(key, value, _("a table with one text per language code"))
        return None
    found: dict[str, str] = {}
    ok = True
    for language in value:
        if not reader.language_code(_join(key, language), language):
            ok = False
            continue
        text = reader.string(value, language, key, spec)
        if text is None:
            ok = False
        else:
            found[language] = text
    return found if ok else None


def _read_texts(
    document: Table, reader: _Reader, revision: int | None, status: str | None
) -> dict[str, CaseText]:
    """Texts per configured language; the default language's is required."""
    value = document.get("text", {})
    if not isinstance(value, dict):
        reader.wrong_type("text", value, _("tables written [text.<language>]"))
        return {}
    default = reader.default_language
    if default not in value:
        reader.report(
            f"text.{default}",
            _(
                "missing required table; expected [text.{language}] with title, summary and "
                "body in the default language"
            ).format(language=default),
        )
    texts: dict[str, CaseText] = {}
    for language, path, table in reader.language_tables(value, "text"):
        text = _read_case_text(table, path, reader, language == default, revision, status)
        if text is not None:
            texts[language] = text
    return texts


def _read_case_text(
    table: Table,
    path: str,
    reader: _Reader,
    is_default: bool,
    revision: int | None,
    status: str | None,
) -> CaseText | None:
    reader.unknown_keys(table, _TEXT_FIELDS, path)
    fields = {name: reader.string(table, name, path, spec) for name, spec in _TEXT_FIELDS.items()}
    _check_update(table, path, reader, is_default, revision)
    _check_outcome(table, path, reader, is_default, status)
    title, summary, body = fields["title"], fields["summary"], fields["body"]
    if title is None or summary is None or body is None:
        return None
    return CaseText(title, summary, body, fields["update"], fields["outcome"])


def _check_update(
    table: Table, path: str, reader: _Reader, is_default: bool, revision: int | None
) -> None:
    """Follow-ups say what changed (at least in the default language); a first action cannot."""
    if revision is None:
        return
    if revision > 1 and is_default and "update" not in table:
        reader.missing(
            f"{path}.update",
            _("what changed since the previous revision (required from revision 2 on)"),
        )
    elif revision == 1 and "update" in table:
        reader.report(
            f"{path}.update",
            _("update given in revision 1; expected it only in follow-ups (revision 2 and up)"),
        )


def _check_outcome(
    table: Table, path: str, reader: _Reader, is_default: bool, status: str | None
) -> None:
    """A closure says how the case ended (at least in the default language); open cases cannot."""
    if status == STATUS_CLOSED and is_default and "outcome" not in table:
        reader.missing(
            f"{path}.outcome", _('how the case ended (required when status is "closed")')
        )
    elif status == STATUS_OPEN and "outcome" in table:
        reader.report(
            f"{path}.outcome",
            _('outcome given but status is "open"; expected outcome only with status = "closed"'),
        )


def _read_letters(document: Table, reader: _Reader) -> dict[str, LetterTemplate]:
    """Suggested letters are optional, but each one needs salutation, body and closing."""
    value = document.get("letter", {})
    if not isinstance(value, dict):
        reader.wrong_type("letter", value, _("tables written [letter.<language>]"))
        return {}
    letters: dict[str, LetterTemplate] = {}
    for language, path, table in reader.language_tables(value, "letter", any_language=True):
        reader.unknown_keys(table, _LETTER_FIELDS, path)
        salutation, body, closing, subject, subject_prefix, copies_prefix = (
            reader.string(table, name, path, spec) for name, spec in _LETTER_FIELDS.items()
        )
        if salutation is not None and body is not None and closing is not None:
            letters[language] = LetterTemplate(
                salutation, body, closing, subject, subject_prefix, copies_prefix
            )
    return letters


def _read_preferred_languages(document: Table, reader: _Reader) -> tuple[str, ...]:
    """The letter languages the organisation advises for the target, best first."""
    expected = _('a list of language codes like ["ru", "en"]')
    value = document.get("preferred_languages", [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        reader.wrong_type("preferred_languages", value, expected)
        return ()
    codes: list[str] = []
    for index, code in enumerate(value, start=1):
        key = f"preferred_languages[{index}]"
        if not reader.language_code(key, code):
            continue
        if code in codes:
            reader.report(
                key,
                _('"{language}" is listed twice; expected each language once').format(
                    language=code
                ),
            )
            continue
        codes.append(code)
    return tuple(codes)


def _read_topics(document: Table, reader: _Reader) -> tuple[str, ...]:
    """What the case is about, from the fixed list (``TOPICS``): a typo would reach nobody."""
    expected = _('a list of topics like ["death-penalty", "torture"]')
    value = document.get("topics", [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        reader.wrong_type("topics", value, expected)
        return ()
    if len(value) > len(TOPICS):  # a list longer than the list of topics repeats itself
        reader.report(
            "topics",
            _("too many: {count} topics; expected at most {limit}").format(
                count=format_number(len(value)), limit=len(TOPICS)
            ),
        )
        return ()
    topics: list[str] = []
    for index, topic in enumerate(value, start=1):
        key = f"topics[{index}]"
        if topic not in TOPICS:
            suggestion = audience.topic_meant(topic, reader.languages)
            if suggestion:
                message = _('unknown topic "{topic}"; did you mean "{suggestion}"?').format(
                    topic=_shown(topic), suggestion=suggestion
                )
            else:
                message = _('unknown topic "{topic}"; expected one of {topics}').format(
                    topic=_shown(topic), topics=", ".join(TOPICS)
                )
            reader.report(key, message)
        elif topic in topics:
            reader.report(
                key,
                _('"{topic}" is listed twice; expected each topic once').format(topic=topic),
            )
        else:
            topics.append(topic)
    return tuple(topics)


def warnings(revision: ActionRevision, today: date | None = None) -> list[Problem]:
    """What is valid but probably not meant; ``uabot check`` and the upload preview show it.

    A deadline already past on ``today`` (the one clock, ``BotData.today``) comes first:
    published, the case goes straight to "recently expired" or the archive. A deadline before
    ``issued`` is a problem, not a warning (``_check_after_issued``). Then: an addressee
    without its own salutation or closing for a letter language uses the letter's general
    one ("Dear Minister," to the embassy). A file with one addressee is exempt: its letters
    are written for it. Addressee warnings name the role, not only the table's number.
    """
    found = _deadline_warnings(revision, today)
    found += _letter_warnings(revision)  # a letter that does not fit a page matters most
    several = len(revision.addressees) > 1
    language = current_locale.get()
    for index, addressee in enumerate(revision.addressees, start=1):
        path = f"addressees[{index}]"
        # The role in the reader's language, else in the first language it is given in.
        role = addressee.role_in(language, next(iter(addressee.roles)))
        for key, own in (("salutation", addressee.salutations), ("closing", addressee.closings)):
            found += _own_text_warnings(revision, addressee, path, role, key, own, several)
    if revision.addressees and all(addressee.copy for addressee in revision.addressees):
        found.append(
            Problem(
                "addressees",
                _(
                    "every addressee is a copy: no letter goes to a main addressee; expected "
                    "copy = true only on the addressees who receive a copy"
                ),
            )
        )
    for language in revision.letters:
        if revision.subject_in(language) is None:
            found.append(
                Problem(
                    f"letter.{language}.subject",
                    _(
                        "no subject and no [text.{code}] title to take it from: the letter "
                        "has no subject line"
                    ).format(code=language),
                )
            )
    for index, language in enumerate(revision.preferred_languages, start=1):
        if language not in revision.letters:
            found.append(
                Problem(
                    f"preferred_languages[{index}]",
                    _("there is no [letter.{code}], so it cannot be offered").format(
                        code=language
                    ),
                )
            )
    return found


def register_warnings(revision: ActionRevision, formal: bool) -> list[Problem]:
    """German texts that address the reader in the other register than the bot's
    (``i18n.formal``), and German letters that say "du": a letter addresses officials, so
    "Sie" there is right whatever the bot says to supporters."""
    found: list[Problem] = []
    text = revision.texts.get("de")
    for key, value in (vars(text) if text is not None else {}).items():
        word = (informal_address if formal else formal_address)(value or "")
        if word is not None:
            message = (
                _('uses "{word}": the bot says "Sie" to supporters (i18n.formal = true)')
                if formal
                else _('uses "{word}": the bot says "du" to supporters (i18n.formal = false)')
            )
            found.append(Problem(f"text.de.{key}", message.format(word=word)))
    letter = revision.letters.get("de")
    for key, value in (vars(letter) if letter is not None else {}).items():
        word = informal_address(value) if isinstance(value, str) else None
        if word is not None:
            found.append(
                Problem(
                    f"letter.de.{key}",
                    _('uses "{word}": a letter addresses officials; expected "Sie"').format(
                        word=word
                    ),
                )
            )
    return found


def _deadline_warnings(revision: ActionRevision, today: date | None) -> list[Problem]:
    """A deadline already past, and a closure that does not say how it ended."""
    found: list[Problem] = []
    if today is not None and revision.deadline_passed(today):
        assert revision.deadline is not None
        found.append(
            Problem(
                "deadline",
                _(
                    "{date} is already past (today is {today}): the case will show "
                    '"Deadline passed" and take letters only with a note; expected a '
                    "deadline in the future"
                ).format(date=revision.deadline.isoformat(), today=today.isoformat()),
            )
        )
    if revision.is_closed and revision.outcome is None:
        found.append(
            Problem(
                "outcome",
                _(
                    'no outcome kind: the archive cannot count it; expected outcome = "good", '
                    '"mixed" or "bad"'
                ),
            )
        )
    return found


def _own_text_warnings(
    revision: ActionRevision,
    addressee: Addressee,
    path: str,
    role: str,
    key: str,
    own: Mapping[str, str],
    several: bool,
) -> list[Problem]:
    """An addressee's salutation or closing (``key``) missing for a letter, or never used."""
    found: list[Problem] = []
    for language, letter in revision.letters.items():
        # A closing is warned about only where the addressee has its own salutation: "Monsieur
        # le Président," needs its closing formula, "Yours sincerely," suits everyone.
        needed = key == "salutation" or language in addressee.salutations
        if several and needed and language not in own:
            general = letter.salutation if key == "salutation" else letter.closing
            message = (
                _(
                    "no salutation for the letter in {language}; its letters open "
                    'with [letter.{code}].salutation, "{text}"'
                )
                if key == "salutation"
                else _(
                    "no closing for the letter in {language}; its letters close "
                    'with [letter.{code}].closing, "{text}"'
                )
            )
            text = message.format(
                language=language_name(language, current_locale.get()),
                code=language,
                text=general,
            )
            found.append(Problem(f"{path}.{key}.{language}", f"{role}: {text}"))
    for language in own:
        if language not in revision.letters:
            text = _("there is no [letter.{code}], so this {key} is never used").format(
                code=language, key=key
            )
            found.append(Problem(f"{path}.{key}.{language}", f"{role}: {text}"))
    return found


# A letter that fits one A4 page: characters of body and personal sentence together, in the
# template's Arial 11 pt with the sender, a four-line address, subject, salutation, closing,
# signature space and a copies line around them. Calibrated once through LibreOffice 7.4
# (ua-014-26's German letter, paragraphs of ~500 characters, a 500-character personal
# sentence): a 1,300-character body printed on one page, 1,400 characters on two.
PAGE_CHARACTERS = 1800


def _letter_warnings(revision: ActionRevision) -> list[Problem]:
    """Letters longer than a page, and English words in a letter the bot has no catalog for."""
    found: list[Problem] = []
    has_copies = any(addressee.copy for addressee in revision.addressees)
    for language, letter in revision.letters.items():
        # The personal sentence a supporter may add is counted as written in full.
        length = len(letter.body) + PERSONAL_MAX
        if length > PAGE_CHARACTERS:
            found.append(
                Problem(
                    f"letter.{language}.body",
                    _(
                        "{count} characters with a personal sentence: the letter will not fit "
                        "one A4 page (about {limit} do); expected a shorter body"
                    ).format(count=format_number(length), limit=format_number(PAGE_CHARACTERS)),
                )
            )
        if strings_language(language) == language:
            continue
        english = []
        if letter.subject_prefix is None and revision.subject_in(language) is not None:
            english.append(("subject_prefix", '"Re:"'))
        if letter.copies_prefix is None and has_copies:
            english.append(("copies_prefix", '"Copy to:"'))
        for key, words in english:
            found.append(
                Problem(
                    f"letter.{language}.{key}",
                    _(
                        "the bot has no {language} words for the letter: it writes {words} in "
                        "English; expected {key} in {language}"
                    ).format(
                        language=language_name(language, current_locale.get()),
                        words=words,
                        key=key,
                    ),
                )
            )
    return found
