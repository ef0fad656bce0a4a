"""One bad file never stops the rest: bounded input, a fuzzed parser, poisoned uploads and feeds.

Whatever a file holds, ``parse_action`` either returns a revision or raises its own
``ActionFileError``; a revision it returns goes through the importer, the rendering and the
letter without an exception. The journeys show what admins read when a file is poisoned.
"""

from __future__ import annotations

import asyncio
import io
import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from journeys import ADMIN_ID, FIXTURES, subscriber, upload

from bot.actions import ActionFileError, ActionRevision, parse_action, render
from bot.actions import parse as parse_module
from bot.actions.importer import ImportRefused, discard, import_revision, load
from bot.actions.model import ADDRESSEES_MAX, REVISION_MAX
from bot.actions.parse import MAX_FILE_BYTES, MAX_NESTING
from bot.cli import main
from bot.config import FeedConfig
from bot.emulator import Emulator
from bot.emulator.html import parse_html
from bot.i18n import use_locale
from bot.letters import compose as letters
from bot.letters import draft as drafts
from bot.services import feed as feed_module
from bot.services.scheduling import FEED_JOB, LAST_POLL, reminder_due
from bot.storage import Storage

LANGUAGES = ("en", "de", "fr")
DOCS_EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
EXAMPLES = sorted([*FIXTURES.glob("*.toml"), *DOCS_EXAMPLES.glob("*.toml")])
SORRY = "something went wrong"


def parse(data: bytes | str, source: str = "test.toml") -> ActionRevision:
    return parse_action(data, source=source, languages=LANGUAGES, default_language="en")


def problems(data: bytes | str) -> str:
    with pytest.raises(ActionFileError) as caught:
        parse(data)
    return str(caught.value)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def edited(old: str, new: str) -> str:
    """The second case's file with one change (which must apply)."""
    text = fixture("ua-013-26-1.toml")
    assert old in text, old
    return text.replace(old, new, 1)


def nested_arrays(depth: int = 1000) -> str:
    """A valid action file with one more key: ``depth`` nested arrays (RecursionError once)."""
    return fixture("ua-013-26-1.toml") + "\npoison = " + "[" * depth + "]" * depth + "\n"


def huge_revision() -> str:
    """A valid follow-up but for its revision, which overflowed SQLite's INTEGER once."""
    text = fixture("ua-012-26-2.toml")
    return re.sub(r"(?m)^revision = \d+", "revision = 100000000000000000000", text)


MANY_CODES = ("ru", "kk", "es", "it", "pt", "nl", "pl", "cs", "sk", "hu", "ro", "bg", "el", "tr",
              "uk", "sv", "da", "fi", "nb", "et", "lv")  # fmt: skip

# --- bounds: each one reported as a problem of the file ------------------------------------------

BOUNDS = [
    # (id, file text, part of the problems)
    ("1000 nested arrays", nested_arrays(),
     "test.toml: nested too deeply at line 46: more than 8"),
    ("nested inline tables", "x = " + "{a = " * 9 + "1" + "}" * 9,
     "nested too deeply at line 1"),
    ("multi-line nesting", "x = [\n" + "[\n" * MAX_NESTING + "]\n" * (MAX_NESTING + 1),
     f"nested too deeply at line {MAX_NESTING + 1}"),
    ("2,000 dotted key parts", "x." * 2000 + "y = 1", "key with too many parts at line 1"),
    ("long table header", "\n[" + "a." * 50 + "b]\n", "key with too many parts at line 2"),
    ("huge revision", huge_revision(),
     "revision: 100000000000000000000 is more than 9999; expected a whole number"),
    ("negative revision", edited("revision = 1", "revision = -5"),
     "revision: -5 is less than 1"),
    ("a number of 5,000 digits", "revision = " + "7" * 5000, "not valid TOML: Exceeds the limit"),
    ("year 1", edited("issued = 2026-02-02", "issued = 0001-01-01"),
     "issued: 0001-01-01 is out of range; expected a date from 2000-01-01 to 2099-12-31"),
    ("year 9999", edited("deadline = 2026-03-16",
                                                      "deadline = 9999-12-31"),
     "deadline: 9999-12-31 is out of range"),
    ("too many addressees", fixture("ua-013-26-1.toml")
     + '[[addressees]]\nrole = "Copy"\nemail = "copy@example.org"\n' * ADDRESSEES_MAX,
     f"addressees: too many: {ADDRESSEES_MAX + 1} addressees; expected at most {ADDRESSEES_MAX}"),
    ("too many letter languages", fixture("ua-013-26-1.toml") + "".join(
        f'[letter.{code}]\nsalutation = "S"\nbody = "B"\nclosing = "C"\n' for code in MANY_CODES),
     "letter: too many: 23 languages; expected at most 20"),
    ("too many preferred languages",
     edited('status = "open"', f'status = "open"\npreferred_languages = {list(MANY_CODES)}'),
     "preferred_languages: too many: 21 languages; expected at most 20"),
    ("too large", "# " + "x" * MAX_FILE_BYTES, "test.toml: too large: 524,290 bytes; expected an "
     "action file of at most 524,288 bytes"),
    ("a lone surrogate", edited("Dear", "Dear \ud800"),
     "not UTF-8 text: invalid byte 0xED on line"),
    ("vertical tab", edited("Dear", "Dear\\u000b"),
     "control character U+000B"),
    ("form feed", edited("Dear", "Dear\\f"),
     "control character U+000C"),
    ("unit separator", edited("Dear", "Dear\\u001F"),
     "control character U+001F"),
    ("noncharacter", edited("Dear", "Dear\\uFFFE"),
     "control character U+FFFE"),
    ("a terminal escape in a key", '"\\u001b[2J" = 1', 'unknown key "\\u001b[2J"'),
    ("a key of 100,000 characters", "k" * 100_000 + " = 1", 'unknown key "' + "k" * 59 + "…"),
    ("a case of 100,000 characters", 'case = "' + "U" * 100_000 + '"',
     'not a case number: "' + "U" * 59 + '…"'),
]  # fmt: skip


@pytest.mark.parametrize(("text", "fragment"), [b[1:] for b in BOUNDS], ids=[b[0] for b in BOUNDS])
def test_every_bound_is_a_problem_of_the_file(text: str, fragment: str) -> None:
    assert fragment in problems(text)


def test_each_problem_stays_one_short_line() -> None:
    text = "k" * 100_000 + ' = 1\ncase = "' + "U" * 100_000 + '"\n[text.' + "x" * 50_000 + "]\n"
    lines = problems(text).splitlines()
    assert len(lines) > 5 and max(len(line) for line in lines) < 300


def test_the_largest_revision_and_the_nesting_valid_files_use_are_accepted() -> None:
    last = huge_revision().replace("100000000000000000000", str(REVISION_MAX))
    assert parse(last).revision == REVISION_MAX
    inline = edited(
        "[[addressees]]\nrole = ",
        'addressees = [{ role = "Minister", email = "m@example.org" }]\n[[other]]\nrole = "x"',
    )
    assert "nested" not in problems(inline)  # [[other]] is unknown, the inline list is fine


def test_the_scan_steps_over_brackets_dots_and_quotes_in_strings_and_comments() -> None:
    deep, dots = "[" * 20 + "{" * 20, ".".join("abcdefghijkl")
    text = edited(
        'title = "',
        f'"{dots}" = 1\n'  # a quoted key is one part, whatever it holds
        f"'{dots}{deep}' = 2\n"
        f'title = """He said ""{deep}"" and \\""" {dots}"""\n'
        f"summary2 = '''{deep}''''\n"
        f"# {deep} {dots}\n"
        f'first = "{deep}\\" {dots}" # {deep}\n'
        'dummy = "',
    )
    found = problems(text)
    assert "nested" not in found and "too many parts" not in found, found
    assert f'unknown key "{dots}"' in found  # the checks went on after the scan


def test_recursion_in_tomllib_is_still_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "_nesting_problem", lambda text: None)
    found = problems(nested_arrays(100_000))
    assert "test.toml: nested too deeply: more than 8 levels" in found


def test_uabot_check_reports_poisoned_files_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nested.toml").write_text(nested_arrays(), "utf-8")
    (tmp_path / "huge.toml").write_text(huge_revision(), "utf-8")
    files = [tmp_path / "nested.toml", tmp_path / "huge.toml", FIXTURES / "ua-013-26-1.toml"]
    assert main(["check", *map(str, files)]) == 1
    out, err = capsys.readouterr()
    assert "nested.toml: nested too deeply at line 46" in err
    assert "huge.toml: revision: 100000000000000000000 is more than 9999" in err
    assert "ok: UA 013/26" in out and "Traceback" not in err


async def test_the_importer_refuses_a_revision_sqlite_cannot_hold(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        last = parse(huge_revision().replace("100000000000000000000", str(REVISION_MAX)))
        for number in (REVISION_MAX + 1, 10**20):  # a closure of the last revision, a script
            with pytest.raises(ImportRefused, match="revisions go from 1 to 9999"):
                await import_revision(storage, replace(last, revision=number), by=None)
        assert await storage.revisions.latest(last.case) is None
    finally:
        await storage.close()


# --- fuzzing: nothing but ActionFileError escapes, and what parses goes all the way -------------


class Pipeline:
    """Import, render and compose a parsed revision, on one event loop and one database."""

    def __init__(self, path: Path) -> None:
        self.runner = asyncio.Runner()
        self.storage = self.runner.run(Storage.open(path))
        self.checked = 0

    def close(self) -> None:
        self.runner.run(self.storage.close())
        self.runner.close()

    def parse(self, data: bytes | str) -> None:
        """Parse; a revision must survive every later stage."""
        try:
            revision = parse(data)
        except ActionFileError as error:
            assert error.problems
            for problem in error.problems:  # one short line each, whatever the file held
                assert "\n" not in problem.key + problem.message
                assert len(problem.describe("test.toml")) < 500, problem
            with use_locale("de"):
                for text in render.problems(error):
                    assert len(text) <= 4096
                    parse_html(text)
            return
        self.check(revision)

    def check(self, revision: ActionRevision) -> None:
        self.checked += 1
        assert ActionRevision.from_json(revision.to_json()) == revision
        stored = self.runner.run(self._import(revision))
        assert stored == revision
        reminder_due(revision, date(2026, 1, 1), 3)
        for language in LANGUAGES:
            with use_locale(language):
                self._render(revision)
        for language in revision.letters:  # every letter language, every addressee
            for index, addressee in enumerate(revision.addressees):
                letter = letters.letter_for(
                    revision, index, language, sender_name="A. L.", sender_place="Bern",
                    personal="Hi.", on=date(2026, 2, 1), default_language="en",
                    reader_language="de", region="CH",
                )  # fmt: skip
                with use_locale("de"):  # the reader's language, as in the wizard
                    for text in drafts.preview(letter):
                        parse_html(text)
                    parse_html(drafts.where_to_send(letter))
                    if addressee.email:
                        for text in drafts.email_route(letter, revision.case).messages:
                            parse_html(text)
            # The document once per language (composing is the slow part of the check).
            with zipfile.ZipFile(io.BytesIO(letters.compose(letter))) as archive:
                ElementTree.fromstring(archive.read("word/document.xml"))  # well-formed XML

    async def _import(self, revision: ActionRevision) -> ActionRevision | None:
        await import_revision(self.storage, revision, by=None)
        stored = await load(self.storage, revision.case, revision.revision)
        assert await discard(self.storage, revision.case, revision.revision, by=None)
        return stored

    @staticmethod
    def _render(revision: ActionRevision) -> None:
        from bot.actions.importer import ImportKind, ImportResult

        for text in (
            render.card_text(revision, "en", 3),
            render.card_text(revision, "en", 1, wrote_on=date(2026, 3, 12)),
            render.preview(ImportResult(ImportKind.NEW, revision, False), 5, LANGUAGES, "en"),
            *render.details(revision, "en", "uabot_test_bot").texts,
        ):
            parse_html(text)
        render.card_keyboard(revision, "en", "uabot_test_bot")
        render.preview_keyboard(revision)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    checker = Pipeline(tmp_path / "fuzz.sqlite3")
    try:
        yield checker
    finally:
        checker.close()


FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same cases on every run and every machine
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Values that broke a stage before they were bounded, or could: deep nesting (tomllib recurses),
# integers past SQLite's 64 bits, dates at the ends of the calendar (date arithmetic overflows),
# and strings the letter's XML or Telegram's HTML cannot carry.
DEEP = "[" * 1000 + "]" * 1000
POISON_VALUES = [
    DEEP, "{a = " * 600 + "1" + "}" * 600, "100000000000000000000", "9223372036854775808",
    "-1", "0", "10000", "0001-01-01", "0001-01-02", "9999-12-31", "1999-12-31", "2100-01-01",
    "1e999", "nan", "true", "2026-01-20T10:00:00Z", '"\\u0000"', '"\\uFFFE"', '"\\u000b"',
    '"<b>&amp;"', '"' + "x" * 30_000 + '"', '"\\U0001F600\\u202E\\u2028§BODY§"', "[]", "{}",
]  # fmt: skip
# Pieces of TOML syntax, the format's keys and values, and what has broken parsers before.
TOKENS = [
    "[", "]", "[[", "]]", "{", "}", "=", " = ", ".", ",", "\n", "#", '"', "'", '"""', "'''",
    "\\", "\\u0000", "\\uD800", "\\U0010FFFF", "\r\n", "\t", "\x00", "\x7f", "\ufeff",
    "case", "revision", "status", "issued", "deadline", "closed_on", "addressees", "text",
    "letter", "en", "de", "fr", "title", "summary", "body", "role", "email", "address",
    '"UA 012/26"', '"open"', '"closed"', "x = ", "x." * 30, "\U0001f600", "\u202e",
    *POISON_VALUES,
]  # fmt: skip
toml_ish = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)), max_size=40).map(
    "".join
)


def test_fuzz_toml_ish_documents(pipeline: Pipeline) -> None:
    @settings(FUZZ, max_examples=2500)
    @given(toml_ish)
    def fuzz(text: str) -> None:
        pipeline.parse(text)
        pipeline.parse(text.encode("utf-8", "surrogatepass"))

    fuzz()


def _toml_string(value: str) -> str:
    """A TOML basic string for any text (controls escaped, so they reach the validation)."""
    escaped = (
        "\\" + char
        if char in '"\\'
        else f"\\u{ord(char):04x}"
        if char < " " or char == "\x7f"
        else char
        for char in value
    )
    return '"' + "".join(escaped) + '"'


# Text that passes validation yet has broken later stages elsewhere: markup, entities, emoji,
# right-to-left marks, line and paragraph separators, combining marks, tabs, the letter's
# markers. Control characters and noncharacters are refused, so they are left out here.
POISON = ["<", ">", "&", "&amp;", "<b>", "</i>", "\t", "\U0001f600", "\u202e", "\u200b", "\u2028",
          "\u2029", "\u0301", "§BODY§", '"', "\\", "\u00a0"]  # fmt: skip
_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"
)


def _not_blank(text: str) -> str:
    return text if text.strip() else text + "x"  # blank is refused: not what is tested here


one_line = st.lists(st.one_of(_CHARS, st.sampled_from(POISON)), min_size=1, max_size=20).map(
    "".join
)
multi_line = st.lists(
    st.one_of(_CHARS, st.sampled_from([*POISON, "\n", "\n\n"])), min_size=1, max_size=60
).map("".join)
one_line, multi_line = one_line.map(_not_blank), multi_line.map(_not_blank)
FIELDS = {
    "title": one_line, "summary": multi_line, "body": multi_line, "role": one_line,
    "address": multi_line, "salutation": one_line, "letter_body": multi_line,
    "closing": one_line,
}  # fmt: skip


def poisoned_file(texts: dict[str, str], revision: int, issued: date, deadline: date) -> str:
    """A file valid in its structure, with the given texts in every text and letter field."""
    value = {name: _toml_string(text) for name, text in texts.items()}
    update = f"update = {value['summary']}\n" if revision > 1 else ""
    parts = [
        f'case = "UA 099/26"\nrevision = {revision}\ncountry = "CH"\n'
        f"issued = {issued.isoformat()}\ndeadline = {max(deadline, issued).isoformat()}\n"
        'status = "open"\n',
        f"[[addressees]]\nrole = {value['role']}\naddress = {value['address']}\n",
        '[[addressees]]\nrole = "Copy"\nemail = "copy@example.org"\n',
        *(
            f"[text.{language}]\ntitle = {value['title']}\nsummary = {value['summary']}\n"
            f"body = {value['body']}\n{update}"
            for language in ("en", "fr")
        ),
        *(
            f"[letter.{language}]\nsalutation = {value['salutation']}\n"
            f"body = {value['letter_body']}\nclosing = {value['closing']}\n"
            for language in ("en", "fr")
        ),
    ]
    return "\n".join(parts)


def test_fuzz_poisoned_values_in_a_valid_file(pipeline: Pipeline) -> None:
    """Valid files with poisoned texts, numbers and dates: many go through every stage."""
    # Hypothesis favours small numbers: the edges are named, or they would seldom come up.
    edges = [REVISION_MAX, REVISION_MAX + 1, 2**63 - 1, 2**63, 10**20, 0, -(2**63) - 1]
    # Valid values twice as often, so that most files reach the later stages.
    valid_revisions = st.integers(1, 3)
    revisions = st.one_of(valid_revisions, valid_revisions, st.sampled_from(edges), st.integers())
    edge_dates = [date.min, date(1, 1, 2), date(1999, 12, 31), date(2100, 1, 1), date.max]
    valid_dates = st.dates(date(2000, 1, 1), date(2099, 12, 31))
    dates = st.one_of(valid_dates, valid_dates, st.sampled_from(edge_dates), st.dates())

    @settings(FUZZ, max_examples=500)
    @given(texts=st.fixed_dictionaries(FIELDS), revision=revisions, issued=dates, deadline=dates)
    def fuzz(texts: dict[str, str], revision: int, issued: date, deadline: date) -> None:
        pipeline.parse(poisoned_file(texts, revision, issued, deadline))

    fuzz()
    assert pipeline.checked > 50  # not all refused: the poison reached the later stages


# Each edit with its weight: most keep the file's structure, so that many mutants still parse
# and carry their damage into the later stages.
MUTATIONS = {
    "insert": 4, "value": 2, "flip": 2, "delete": 1, "duplicate": 1, "swap": 1, "truncate": 1,
}  # fmt: skip
_VALUE_RE = re.compile(rb"^(\s*[A-Za-z_]+\s*=\s*)(.*)$")


def mutate(data: bytes, seed: int) -> bytes:
    """Up to three random edits: tokens inserted, values poisoned, bytes flipped, lines
    dropped, repeated or swapped."""
    rng = random.Random(seed)
    lines = data.split(b"\n")
    for kind in rng.choices(list(MUTATIONS), list(MUTATIONS.values()), k=rng.randint(1, 3)):
        at = rng.randrange(len(lines)) if lines else 0
        if kind == "flip" and lines and lines[at]:
            line = bytearray(lines[at])
            line[rng.randrange(len(line))] = rng.randrange(256)
            lines[at] = bytes(line)
        elif kind == "insert" and lines:
            token = rng.choice(TOKENS).encode("utf-8", "surrogatepass")
            cut = rng.randint(0, len(lines[at]))
            lines[at] = lines[at][:cut] + token * rng.choice((1, 1, 2, 100)) + lines[at][cut:]
        elif kind == "value":
            keys = [index for index, line in enumerate(lines) if _VALUE_RE.match(line)]
            if keys:
                index = rng.choice(keys)
                value = rng.choice(POISON_VALUES).encode()
                match = _VALUE_RE.match(lines[index])
                assert match is not None
                lines[index] = match.group(1) + value
        elif kind == "delete" and lines:
            del lines[at]
        elif kind == "duplicate" and lines:
            lines.insert(at, lines[rng.randrange(len(lines))])
        elif kind == "swap" and len(lines) > 1:
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "truncate":
            lines = lines[:at]
    return b"\n".join(lines)


def test_fuzz_mutated_example_files(pipeline: Pipeline) -> None:
    """Seeded mutations of every example file: many still parse and go through every stage."""

    @settings(FUZZ, max_examples=2500)
    @given(st.sampled_from(EXAMPLES), st.integers(min_value=0, max_value=2**32))
    def fuzz(path: Path, seed: int) -> None:
        pipeline.parse(mutate(path.read_bytes(), seed))

    fuzz()
    assert pipeline.checked > 250


def test_every_example_goes_through_the_pipeline(pipeline: Pipeline) -> None:
    for path in EXAMPLES:
        if path.name != "broken.toml":
            pipeline.parse(path.read_bytes())
    assert pipeline.checked == len(EXAMPLES) - 1


# --- journeys: what admins read -----------------------------------------------------------------


async def test_an_admin_reads_the_problems_of_poisoned_uploads(
    emulator: Emulator, bot: Any
) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "de")
    await admin.upload("nested.toml", nested_arrays().encode(), mime_type="application/toml")
    answer = await admin.receive()
    assert "nested.toml hat 1 Problem:" in answer.text
    assert "zu tief verschachtelt in Zeile 46: mehr als 8 Ebenen" in answer.text

    await admin.upload("huge.toml", huge_revision().encode(), mime_type="application/toml")
    answer = await admin.receive()
    assert "huge.toml hat 1 Problem:" in answer.text
    assert "revision: 100000000000000000000 ist größer als 9999" in answer.text

    big = b"# " + b"x" * MAX_FILE_BYTES
    await admin.upload("big.toml", big, mime_type="application/toml")
    answer = await admin.receive()
    assert "big.toml hat 1 Problem:" in answer.text
    assert "zu groß: 524.290 Bytes" in answer.text

    preview = await upload(admin, "ua-012-26-1.toml")  # the next file is read as ever
    assert "Neuer Fall UA 012/26" in preview.text
    assert not [m for m in admin.messages if SORRY in m.text or "schiefgelaufen" in m.text]
    storage = bot.bot_data.storage
    assert await storage.revisions.latest("UA 013/26") is None
    assert (await storage.revisions.latest("UA 012/26")).revision == 1  # type: ignore[union-attr]


async def run_feed(app: Any) -> None:
    (job,) = app.job_queue.get_jobs_by_name(FEED_JOB)
    await job.run(app)


async def test_a_poisoned_file_in_the_feed_is_reported_once_and_the_rest_goes_on(
    emulator: Emulator, restart: Any, config: Any, tmp_path: Path
) -> None:
    source = tmp_path / "feed"
    source.mkdir()
    (source / "1-ua-012-26-1.toml").write_bytes((FIXTURES / "ua-012-26-1.toml").read_bytes())
    (source / "2-nested.toml").write_text(nested_arrays(), "utf-8")
    (source / "3-huge.toml").write_text(huge_revision(), "utf-8")
    (source / "4-gone.toml").symlink_to(source / "nowhere")  # unreadable now: tried again later
    (source / "5-ua-013-26-1.toml").write_bytes((FIXTURES / "ua-013-26-1.toml").read_bytes())
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="fr")
    async with restart(feed=replace(config.feed, source=str(source))) as app:
        storage = app.bot_data.storage
        await admin.send("/language")  # the admin reads French (and is not a subscriber)
        await admin.tap(await admin.receive(), "✓ Français")
        await run_feed(app)
        received = await admin.receive_many(4)
        texts = [message.text for message in received]
        previews = [m for m in received if "Depuis le flux d’actions" in m.text]
        assert len(previews) == 2, texts
        assert "Nouveau cas AU 012/26" in previews[0].text  # in the order of the files
        assert "Nouveau cas AU 013/26" in previews[1].text
        problems = [text for text in texts if "ne peut pas importer" in text]
        assert len(problems) == 2, texts
        assert "2-nested.toml" in problems[0]
        assert "imbriqué trop profondément à la ligne 46\u00a0: plus de 8 niveaux" in problems[0]
        assert "3-huge.toml" in problems[1]
        assert "100000000000000000000 est supérieur à 9999" in problems[1]
        # The colons between file, key and problem come from the catalog: French U+00A0.
        assert "3-huge.toml\u00a0: revision\u00a0: " in problems[1], problems[1]
        assert [text for text in problems if re.search(r" [;:!?]", text)] == []
        assert await storage.job_state.get(LAST_POLL) is not None
        assert await storage.revisions.latest("UA 013/26") is not None

        await run_feed(app)  # the same files: nothing twice
        await admin.expect_silence(0.3)

        await admin.tap(previews[0], "📣 Publier")
        (source / "3-huge.toml").write_text(  # fixed: a new content, read again
            huge_revision().replace("100000000000000000000", "2"), "utf-8"
        )
        await run_feed(app)  # the next poll works
        texts = [message.text for message in await admin.receive_many(2)]  # report, preview
        assert any("Suivi 2 du cas AU 012/26" in text for text in texts), texts
    assert not [m for m in admin.messages if "Désolé" in m.text]


async def test_a_feed_index_with_a_missing_a_huge_and_a_crashing_file_goes_on(
    emulator: Emulator,
    restart: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    served = {
        "/index.json": b'["a.toml", "missing.toml", "big.toml", "crash.toml", "b.toml"]',
        "/a.toml": (FIXTURES / "ua-012-26-1.toml").read_bytes(),
        "/big.toml": b"# " + b"x" * (2 * MAX_FILE_BYTES),  # read only up to the limit
        "/crash.toml": (FIXTURES / "ua-013-26-1.toml").read_bytes(),
        "/b.toml": fixture("ua-012-26-1.toml").replace('"UA 012/26"', '"UA 014/26"').encode(),
    }

    async def serve(request: web.Request) -> web.Response:
        body = served.get(request.path)
        return web.Response(status=404) if body is None else web.Response(body=body)

    real_import = feed_module.import_revision

    async def crash_on_013(storage: Storage, revision: ActionRevision, *, by: int | None) -> Any:
        if revision.case == "UA 013/26":
            raise RuntimeError("a bug in the bot")
        return await real_import(storage, revision, by=by)

    monkeypatch.setattr(feed_module, "import_revision", crash_on_013)
    server = web.Application()
    server.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    # The admin opened the bot once (Telegram refuses a bot's first word otherwise).
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en", started=True)
    try:
        async with restart(feed=FeedConfig(source=f"http://127.0.0.1:{port}/index.json")) as app:
            await run_feed(app)
            texts = [message.text for message in await admin.receive_many(4)]
            assert sum("New case UA 012/26" in text for text in texts) == 1, texts
            assert sum("New case UA 014/26" in text for text in texts) == 1, texts
            big = next(text for text in texts if "cannot import: big.toml" in text)
            assert "too large: 524,289 bytes; expected an action file of at most 524,288" in big
            crash = next(text for text in texts if "cannot import: crash.toml" in text)
            assert "The bot failed on this file" in crash
            assert "importing crash.toml failed" in caplog.text
            assert "a bug in the bot" in caplog.text  # the traceback is for the operator
            assert "cannot fetch http://127.0.0.1" in caplog.text  # missing.toml: next poll
            assert await app.bot_data.storage.job_state.get(LAST_POLL) is not None
            await run_feed(app)
            await admin.expect_silence(0.3)
    finally:
        await runner.cleanup()
