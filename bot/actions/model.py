"""The Urgent Action domain model: one revision of one case, as imported from an action file.

Plain frozen values with no I/O, so the parser, the storage layer, the broadcast and the letter
composer can share them without caring where they came from. ``to_json`` is the canonical form
the storage keeps: two files that differ only in comments, whitespace or key order give the same
JSON, hence the same ``fingerprint``, which is how an identical re-import is recognised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from bot.actions.labels import typed_case_pattern
from bot.actions.typography import typeset_fields

# Length limits in characters, checked by the parser. The summary must fit a push message
# together with the title, the update and the buttons; bodies bound the letter and the card.
TITLE_MAX = 200
SUBJECT_MAX = 200
SUMMARY_MAX = 600
UPDATE_MAX = 1000
OUTCOME_MAX = 1000
BODY_MAX = 20000
LETTER_BODY_MAX = 8000
SALUTATION_MAX = 300
CLOSING_MAX = 300
PREFIX_MAX = 50  # "Re:", "Copy to:" in a letter language the bot does not speak
ROLE_MAX = 300
ADDRESS_MAX = 1000
EMAIL_MAX = 254  # RFC 5321 path limit
AI_INDEX_MAX = 100

STATUS_OPEN = "open"
STATUS_CLOSED = "closed"
STATUSES = (STATUS_OPEN, STATUS_CLOSED)
# How a closed case ended for the people in it, in the file as ``outcome = "good"``: the
# archive shows it and "Letters helped in N cases" counts the good ones.
OUTCOME_GOOD = "good"
OUTCOME_MIXED = "mixed"
OUTCOME_BAD = "bad"
OUTCOMES = (OUTCOME_GOOD, OUTCOME_MIXED, OUTCOME_BAD)

# The topics a case may name (``topics = [...]`` in an action file) and a supporter may follow
# (/topics): a fixed list, so a typo is a problem with a did-you-mean, not a topic nobody follows.
# Their names shown to readers are in bot/actions/audience.py (translated).
TOPICS = (
    "arbitrary-detention",
    "death-penalty",
    "enforced-disappearance",
    "freedom-of-expression",
    "human-rights-defenders",
    "indigenous-peoples",
    "lgbti",
    "refugees-and-migrants",
    "torture",
    "women-and-gender",
)

# Bounds of the numbers and counts a file may hold, checked by the parser. Beyond them lie
# SQLite's 64-bit integers, date arithmetic past year 9999 and keyboards too long to use;
# case numbers carry a two-digit year, so a case lives in 2000-2099.
REVISION_MAX = 9999
# The personal sentence a supporter may add to a letter (the wizard's limit; the parser counts
# it when it warns of letters longer than a page).
PERSONAL_MAX = 500
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)
ADDRESSEES_MAX = 20
LETTER_LANGUAGES_MAX = 20  # one button each in the letter wizard


# The key of a role given as one plain string: the same words in every letter language.
ANY_LANGUAGE = ""


@dataclass(frozen=True)
class Addressee:
    """Someone the letters go to: by post (``address``), by e-mail, or both.

    ``roles`` maps a language code to the role in that language (``ANY_LANGUAGE`` for a plain
    string role); ``salutations`` and ``closings`` map a letter language to this addressee's
    own salutation and closing formula ("Monsieur le Président," needs its own closing).
    A ``copy`` addressee is listed under "Copy to" in the letters to the others.
    """

    roles: Mapping[str, str]
    address: str | None
    email: str | None
    copy: bool = False
    salutations: Mapping[str, str] = field(default_factory=dict, hash=False)
    closings: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", _frozen_mapping(self.roles))
        object.__setattr__(self, "salutations", _frozen_mapping(self.salutations))
        object.__setattr__(self, "closings", _frozen_mapping(self.closings))

    def __hash__(self) -> int:
        return hash((tuple(self.roles.items()), self.address, self.email, self.copy))

    def role_in(self, language: str, fallback: str) -> str:
        """The role in ``language``, else in ``fallback`` (the default language), else as given."""
        for key in (language, fallback, ANY_LANGUAGE):
            if key in self.roles:
                return self.roles[key]
        return next(iter(self.roles.values()))

    def salutation_in(self, language: str, letter: LetterTemplate) -> tuple[str, bool]:
        """The one place that decides how a letter to this addressee opens.

        The addressee's own salutation for the letter's language, else the letter's general
        one; True means "fell back" (``uabot check`` and the upload preview warn about it).
        """
        own = self.salutations.get(language)
        if own is not None:
            return own, False
        return letter.salutation, True

    def closing_in(self, language: str, letter: LetterTemplate) -> tuple[str, bool]:
        """How a letter to this addressee closes: its own closing, else the letter's general
        one (True: "fell back", warned about like a salutation)."""
        own = self.closings.get(language)
        if own is not None:
            return own, False
        return letter.closing, True

    @property
    def is_email_only(self) -> bool:
        """No postal address: its letter has no address block and goes by e-mail."""
        return self.address is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; keys that keep their default are left out, so a revision stored before
        they existed keeps its fingerprint (a plain role stays a plain string)."""
        roles = dict(self.roles)
        data: dict[str, Any] = {
            "role": roles[ANY_LANGUAGE] if set(roles) == {ANY_LANGUAGE} else roles,
            "address": self.address,
            "email": self.email,
        }
        if self.copy:
            data["copy"] = True
        if self.salutations:
            data["salutation"] = dict(self.salutations)
        if self.closings:
            data["closing"] = dict(self.closings)
        return data

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Addressee:
        role = raw["role"]
        return cls(
            roles={ANY_LANGUAGE: role} if isinstance(role, str) else role,
            address=raw["address"],
            email=raw["email"],
            copy=raw.get("copy", False),
            salutations=raw.get("salutation", {}),
            closings=raw.get("closing", {}),
        )


@dataclass(frozen=True)
class CaseText:
    """What a reader sees of a case in one language."""

    title: str
    summary: str
    body: str
    update: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class LetterTemplate:
    """The suggested letter in one letter language; the bot adds sender, date and signature."""

    salutation: str  # used for every addressee without a salutation of its own
    body: str
    closing: str
    subject: str | None = None  # the subject line; None: the case title in this language
    # The words before the subject and the copies ("Konu:", "Bilgi:"); None: the bot's own
    # ("Re:", "Copy to:"), in English where the bot has no catalog for the letter's language.
    subject_prefix: str | None = None
    copies_prefix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; optional keys only when given (stable fingerprints)."""
        data = {"salutation": self.salutation, "body": self.body, "closing": self.closing}
        for key in ("subject", "subject_prefix", "copies_prefix"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


def case_from_text(text: str) -> str | None:
    """What a person types after /write or /close ("UA 012/26", "ua 012/26", "012/26", the
    link's "ua-012-26", a follow-up's "FI 012/26-2") as a case number, or None when it is not
    one."""
    match = typed_case_pattern().fullmatch(text.strip())
    return f"UA {match.group(1)}/{match.group(2)}" if match else None


def revision_label(case: str, revision: int) -> str:
    """``UA 046/19`` for the first action, ``FI 046/19-2`` for its follow-ups."""
    if revision == 1:
        return case
    return f"FI {case.removeprefix('UA ')}-{revision}"


def _frozen_mapping(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy sorted by key, so parsed and reloaded revisions iterate alike."""
    return MappingProxyType({key: mapping[key] for key in sorted(mapping)})


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


@dataclass(frozen=True)
class ActionRevision:
    """One revision of one case: revision 1 is the action, 2.. are follow-ups."""

    case: str
    revision: int
    ai_index: str | None
    country: str
    issued: date
    deadline: date | None
    status: str  # "open" | "closed"
    closed_on: date | None
    addressees: tuple[Addressee, ...]
    texts: Mapping[str, CaseText] = field(hash=False)
    letters: Mapping[str, LetterTemplate] = field(hash=False)
    # Letter languages the organisation advises for the target, best first ("ru", "en").
    preferred_languages: tuple[str, ...] = ()
    # A closure's outcome kind (one of ``OUTCOMES``); None while open, and for closures
    # stored before the kind existed.
    outcome: str | None = None
    # What the case is about (codes from TOPICS, file order): who follows a topic receives it.
    topics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Read-only mappings keep the "frozen" promise for the nested values too.
        object.__setattr__(self, "addressees", tuple(self.addressees))
        object.__setattr__(self, "texts", _frozen_mapping(self.texts))
        object.__setattr__(self, "letters", _frozen_mapping(self.letters))
        object.__setattr__(self, "preferred_languages", tuple(self.preferred_languages))
        object.__setattr__(self, "topics", tuple(self.topics))

    @property
    def label(self) -> str:
        """How people name this revision: ``UA 046/19`` first, then ``FI 046/19-2``, ..."""
        return revision_label(self.case, self.revision)

    @property
    def is_closed(self) -> bool:
        """A closed case takes no new letters."""
        return self.status == STATUS_CLOSED

    def text_for(self, language: str, default: str) -> tuple[CaseText, bool]:
        """The text in ``language``, else the default language's; True means "fell back".

        Texts and letters are read through here and ``letter_in``, which set what the admin
        typed in French (plain spaces before "?", ') in French typography; the stored
        content and its fingerprint stay as the file said."""
        text = self.texts.get(language)
        if text is not None:
            return typeset_fields(text, language), False
        return typeset_fields(self.texts[default], default), True

    def letter_in(self, language: str) -> LetterTemplate:
        """The suggested letter in ``language`` (typeset as ``text_for`` says)."""
        return typeset_fields(self.letters[language], language)

    def subject_in(self, language: str) -> str | None:
        """A letter's subject: the letter's own, else the case title in that language; None
        when neither exists (a letter language without a case text and without a subject)."""
        letter = self.letters.get(language)
        if letter is not None and letter.subject is not None:
            return self.letter_in(language).subject
        text = self.texts.get(language)
        return typeset_fields(text, language).title if text is not None else None

    def copies_for(self, addressee: Addressee) -> tuple[Addressee, ...]:
        """The copy addressees listed at the foot of a letter to ``addressee`` (not itself)."""
        return tuple(item for item in self.addressees if item.copy and item != addressee)

    def deadline_passed(self, today: date) -> bool:
        """An open case whose deadline lies before ``today``: the one rule of "expired" (the
        deadline day itself still counts as in time, as for reminders)."""
        return not self.is_closed and self.deadline is not None and self.deadline < today

    @property
    def recommended_languages(self) -> tuple[str, ...]:
        """The preferred languages that have a letter, best first."""
        return tuple(code for code in self.preferred_languages if code in self.letters)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: dates as ISO strings, addressees in file order."""
        data = {
            "case": self.case,
            "revision": self.revision,
            "ai_index": self.ai_index,
            "country": self.country,
            "issued": _iso(self.issued),
            "deadline": _iso(self.deadline),
            "status": self.status,
            "closed_on": _iso(self.closed_on),
            "addressees": [addressee.to_dict() for addressee in self.addressees],
            "texts": {language: asdict(text) for language, text in self.texts.items()},
            "letters": {language: letter.to_dict() for language, letter in self.letters.items()},
        }
        if self.preferred_languages:
            data["preferred_languages"] = list(self.preferred_languages)
        if self.outcome is not None:  # only when given: older revisions keep their fingerprint
            data["outcome"] = self.outcome
        if self.topics:  # left out when none: older revisions keep their fingerprints
            data["topics"] = list(self.topics)
        return data

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces), stable across comments and key order."""
        return json.dumps(
            self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, data: str) -> ActionRevision:
        """Rebuild a revision stored with ``to_json`` (trusted input: no validation)."""
        raw = json.loads(data)
        issued = date.fromisoformat(raw["issued"])
        return cls(
            case=raw["case"],
            revision=raw["revision"],
            ai_index=raw["ai_index"],
            country=raw["country"],
            issued=issued,
            deadline=_date(raw["deadline"]),
            status=raw["status"],
            closed_on=_date(raw["closed_on"]),
            addressees=tuple(Addressee.from_dict(item) for item in raw["addressees"]),
            texts={language: CaseText(**text) for language, text in raw["texts"].items()},
            letters={
                language: LetterTemplate(**letter) for language, letter in raw["letters"].items()
            },
            preferred_languages=tuple(raw.get("preferred_languages", ())),
            outcome=raw.get("outcome"),
            topics=tuple(raw.get("topics", ())),
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical JSON: equal fingerprints mean an identical revision."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()
