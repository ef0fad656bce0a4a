"""A personalised letter as a .docx, fast enough to serve a whole campaign at once.

python-docx builds one A4 template per process: styles, margins, fonts, and a marker paragraph
for each part of the letter. A letter then only replaces the markers in ``document.xml`` and
zips the parts again. Building every letter from scratch with python-docx costs ~14 ms (about
70 letters/s on one core); filling the template costs a fraction of that, and the document is
the same.

The document is tagged with the letter's language (``w:lang`` of the styles and every run), so
Word and LibreOffice spell-check it right, and carries no metadata at all: no author, no
application, no template, no revision ids.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from xml.sax.saxutils import escape as xml_escape

import docx
from babel import Locale
from babel.core import get_global, parse_locale
from babel.lists import format_list
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from bot.actions.model import ActionRevision, Addressee, LetterTemplate
from bot.actions.render import case_label
from bot.i18n import (
    format_letter_date,
    is_right_to_left,
    language_name,
    language_tag,
    letter_locale,
    pgettext,
    strings_language,
    use_locale,
)
from bot.i18n import gettext as _
from bot.text_input import CONTROL_CHARACTERS

# The parts of a letter, in order; each is one marker paragraph of the template. TRANSLATION
# heads the page with the letter in the supporter's language (it starts a new page).
SENDER, DATE, ADDRESSEE, SUBJECT, SALUTATION, BODY, PERSONAL, CLOSING, SIGNATURE, COPIES = (
    "SENDER",
    "DATE",
    "ADDRESSEE",
    "SUBJECT",
    "SALUTATION",
    "BODY",
    "PERSONAL",
    "CLOSING",
    "SIGNATURE",
    "COPIES",
)
TRANSLATION = "TRANSLATION"
_LETTER_PARTS = (
    SENDER, DATE, ADDRESSEE, SUBJECT, SALUTATION, BODY, PERSONAL, CLOSING, SIGNATURE, COPIES,
)  # fmt: skip
_PARTS = (*_LETTER_PARTS, TRANSLATION)
_MARKER = "\u00a7{}\u00a7"  # §NAME§: a text no letter contains
_LANG_VALUE = "\u00a7LANG\u00a7"
_LANG = f'w:val="{_LANG_VALUE}"'  # the w:lang attributes of every run, filled per letter
# Parts of python-docx's default template that a letter does not need: they make every file
# ~800 KB larger to zip, and the thumbnail would show python-docx's sample page.
_DROPPED_PARTS = ("stylesWithEffects", "thumbnail", "customXml")
# The signature space: at least 25 mm between the closing and the printed name.
SIGNATURE_SPACE = Mm(27)
# Document properties with nothing in them: python-docx's template names "Microsoft Macintosh
# Word", "Normal.dotm" and itself as author; a letter says nothing about how it was made.
_APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)
_CORE_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b' xmlns:dcterms="http://purl.org/dc/terms/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_REPLACED_PARTS = {"docProps/app.xml": _APP_XML, "docProps/core.xml": _CORE_XML}


@dataclass(frozen=True)
class Letter:
    """Everything one letter needs; ``sender_place`` and ``personal`` are optional.

    ``copies`` are listed at the foot ("Copy to: ..."); ``subject`` is the subject line (none
    without one); roles missing in ``language`` come from ``fallback_language``; ``region``
    (ISO 3166, e.g. "CH") tags the document ``de-CH``; ``translation`` is the same letter in
    the supporter's language, added as a page headed "for you, not to be sent";
    ``date_place`` is the organisation's town (config ``letters.place``) for the date line of
    a sender who gave no place. Build one with ``letter_for``.
    """

    template: LetterTemplate
    language: str
    addressee: Addressee
    sender_name: str
    sender_place: str | None
    personal: str | None
    on: date
    copies: tuple[Addressee, ...] = ()
    subject: str | None = None
    fallback_language: str = "en"
    region: str | None = None
    translation: Letter | None = None
    date_place: str | None = None

    @property
    def salutation(self) -> str:
        """This addressee's salutation in the letter's language (see ``salutation_in``)."""
        return self.addressee.salutation_in(self.language, self.template)[0]

    @property
    def closing(self) -> str:
        """This addressee's closing formula in the letter's language (see ``closing_in``)."""
        return self.addressee.closing_in(self.language, self.template)[0]

    def role(self, addressee: Addressee) -> str:
        """An addressee's role as this letter names it."""
        return addressee.role_in(self.language, self.fallback_language)


def letter_for(
    revision: ActionRevision,
    addressee: int,
    language: str,
    *,
    sender_name: str,
    sender_place: str | None,
    personal: str | None,
    on: date,
    default_language: str,
    reader_language: str | None = None,
    region: str | None = None,
    date_place: str | None = None,
) -> Letter:
    """The letter to ``revision.addressees[addressee]`` in ``language``, with its copies and
    subject; when ``reader_language`` differs and has a letter, with a translation page."""
    chosen = revision.addressees[addressee]
    translation = None
    if (
        reader_language is not None
        and reader_language != language
        and reader_language in revision.letters
    ):
        translation = letter_for(
            revision,
            addressee,
            reader_language,
            sender_name=sender_name,
            sender_place=sender_place,
            personal=personal,
            on=on,
            default_language=default_language,
            region=region,
            date_place=date_place,
        )
    return Letter(
        template=revision.letter_in(language),
        language=language,
        addressee=chosen,
        sender_name=sender_name,
        sender_place=sender_place,
        personal=personal,
        on=on,
        copies=revision.copies_for(chosen),
        subject=revision.subject_in(language),
        fallback_language=default_language,
        region=region,
        translation=translation,
        date_place=date_place,
    )


def letter_text(letter: Letter) -> str:
    """The letter as plain text, for an e-mail (no postal blocks, no date line)."""
    blocks = [letter.salutation, *_blocks(letter.template.body)]
    if letter.personal:
        blocks += _blocks(letter.personal)
    blocks.append(letter.closing + "\n" + letter.sender_name)
    copies = copies_line(letter)
    if copies:
        blocks.append(copies)
    return "\n\n".join(blocks)


def _blocks(text: str) -> list[str]:
    return ["\n".join(lines) for lines in _paragraphs(text)]


def file_name(case: str, language: str, role: str | None = None) -> str:
    """``UA 046/19`` in German -> ``UA-046-19-Brief-de.docx``; with the addressee's ``role``
    ``UA-046-19-Brief-generalstaatsanwalt-de.docx``, so a person's three letters do not
    download as "(1)", "(2)". ASCII only: every file system and mail client keeps it."""
    with use_locale(strings_language(language)):
        # Translators: a word of a letter's file name (UA-031-26-letter-de.docx); no spaces.
        word = _("letter")
        label = case_label(case)  # "AU-046-19-lettre-fr.docx"
    parts = [label, word, *([role] if role else [])]
    stem = "-".join(filter(None, (_slug(part) for part in parts)))
    return f"{stem}-{language}.docx"


def letter_file_name(case: str, letter: Letter) -> str:
    """The file name of ``letter`` in a case: with the addressee's role in the letter's
    language, or in the default language where that has no Latin letters ("Министр")."""
    role = _slug(letter.role(letter.addressee)) or _slug(
        letter.addressee.role_in(letter.fallback_language, letter.fallback_language)
    )
    return file_name(case, letter.language, role.lower()[:40].strip("-") or None)


def _slug(text: str) -> str:
    """ASCII letters and digits joined by "-": "Procureur général" -> "Procureur-general"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")


@dataclass(frozen=True)
class _Template:
    parts: tuple[tuple[str, bytes], ...]  # every zip member but word/document.xml
    head: str  # document.xml up to the first marker paragraph
    paragraphs: dict[str, str]  # part -> its marker paragraph's XML
    tail: str  # document.xml after the last marker paragraph


def _build_template() -> bytes:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    normal = document.styles["Normal"]
    # Arial: on every Word, and LibreOffice has a metric twin (Liberation Sans), so the page
    # breaks where it will when printed.
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(8)
    normal.paragraph_format.line_spacing = 1.15

    for part in _PARTS:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(_MARKER.format(part))
        layout = paragraph.paragraph_format
        if part == DATE:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            layout.space_after = Pt(18)
        if part in (SENDER, ADDRESSEE):
            layout.space_after = Pt(24)
        if part == SUBJECT:
            run.bold = True
            layout.space_after = Pt(14)
        if part in (BODY, PERSONAL):
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if part == CLOSING:
            layout.keep_with_next = True  # never a closing without its signature
            layout.space_after = Pt(0)
        if part == SIGNATURE:
            layout.space_before = SIGNATURE_SPACE
            layout.space_after = Pt(18)
        if part == COPIES:
            run.font.size = Pt(10)
        if part == TRANSLATION:
            layout.page_break_before = True
            layout.space_after = Pt(18)
            run.bold = run.italic = True
        # The letter's language on every run; rPr children are ordered, w:lang comes late.
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), _LANG_VALUE)
        run._r.get_or_add_rPr().append(lang)

    # python-docx's template defines ~160 styles and their latent twins (336 KB); a letter uses
    # the defaults and Normal, and zipping the rest again for every letter was most of its cost.
    styles = document.styles.element
    for element in list(styles):
        keep = element.tag == qn("w:docDefaults") or (
            element.tag == qn("w:style")
            and (element.get(qn("w:default")) == "1" or element.get(qn("w:styleId")) == "Normal")
        )
        if not keep:
            styles.remove(element)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _strip_revision_ids(xml: str) -> str:
    """Drop rsids: Word's revision-session identifiers are a trace of editing history."""
    xml = re.sub(r"<w:rsids>.*?</w:rsids>", "", xml, flags=re.S)
    xml = re.sub(r"<w:rsid [^>]*/>", "", xml)  # a style's own
    return re.sub(r' w:rsid\w*="[^"]*"', "", xml)


def _language_slots(xml: str) -> str:
    """The default language of styles and settings becomes the letter's (filled per letter)."""
    xml = re.sub(r"<w:lang [^>]*/>", f"<w:lang {_LANG}/>", xml)
    return re.sub(r"<w:themeFontLang [^>]*/>", f"<w:themeFontLang {_LANG}/>", xml)


# Scripts Word sets in its East Asian fonts; other scripts but these are "complex" (w:bidi):
# their runs take the complex-script language, size and font.
_EAST_ASIAN_SCRIPTS = frozenset({"Hans", "Hant", "Hani", "Jpan", "Kore", "Hang"})
_SIMPLE_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Armn", "Geor"})


def _language_attributes(locale: Locale) -> str:
    """``w:lang``'s attributes: ``w:val`` always, and the letter's language for the script
    class Word reads it from (``w:bidi`` for Arabic, Hebrew, Devanagari; ``w:eastAsia``)."""
    tag = language_tag(locale)
    script = parse_locale(get_global("likely_subtags").get(locale.language, locale.language))[2]
    attributes = f'w:val="{tag}"'
    if script in _EAST_ASIAN_SCRIPTS:
        attributes += f' w:eastAsia="{tag}"'
    elif is_right_to_left(locale.language) or (script and script not in _SIMPLE_SCRIPTS):
        attributes += f' w:bidi="{tag}"'
    return attributes


@cache
def _template() -> _Template:
    source = zipfile.ZipFile(io.BytesIO(_build_template()))
    dropped = {
        info.filename
        for info in source.infolist()
        if any(name in info.filename for name in _DROPPED_PARTS)
    }
    parts = []
    document_xml = ""
    for info in source.infolist():
        if info.filename in dropped:
            continue
        data = _REPLACED_PARTS.get(info.filename) or source.read(info.filename)
        if info.filename == "word/document.xml":
            document_xml = _strip_revision_ids(data.decode("utf-8"))
            continue
        if info.filename.endswith(".rels") or info.filename == "[Content_Types].xml":
            data = _without_references(data.decode("utf-8"), dropped).encode("utf-8")
        elif info.filename in ("word/settings.xml", "word/styles.xml"):
            data = _language_slots(_strip_revision_ids(data.decode("utf-8"))).encode("utf-8")
        parts.append((info.filename, data))

    paragraphs = {}
    starts = []
    for part in _PARTS:
        marker = document_xml.index(_MARKER.format(part))
        start = max(document_xml.rfind("<w:p>", 0, marker), document_xml.rfind("<w:p ", 0, marker))
        end = document_xml.index("</w:p>", marker) + len("</w:p>")
        paragraphs[part] = document_xml[start:end]
        starts.append((start, end))
    return _Template(
        parts=tuple(parts),
        head=document_xml[: starts[0][0]],
        paragraphs=paragraphs,
        tail=document_xml[starts[-1][1] :],
    )


@cache
def _parts_in(attributes: str) -> tuple[tuple[str, bytes], ...]:
    """The template's parts in the document language (``w:lang`` ``attributes``)."""
    slot = _LANG.encode("utf-8")
    return tuple(
        (name, data.replace(slot, attributes.encode())) for name, data in _template().parts
    )


def _without_references(xml: str, dropped: set[str]) -> str:
    """Remove relationships and content types that point at dropped parts."""
    for name in dropped:
        target = name.split("/")[-1]
        xml = re.sub(rf"<Relationship [^>]*Target=\"[^\"]*{re.escape(target)}\"[^>]*/>", "", xml)
        xml = re.sub(rf"<Override [^>]*PartName=\"/{re.escape(name)}\"[^>]*/>", "", xml)
    return xml


def _clean(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text)  # XML 1.0 cannot carry most of them


def _runs(lines: Sequence[str]) -> str:
    """Text as run content, lines joined by line breaks (not new paragraphs)."""
    return "<w:br/>".join(
        f'<w:t xml:space="preserve">{xml_escape(_clean(line))}</w:t>' for line in lines
    )


def _fill(paragraph: str, part: str, lines: Sequence[str], attributes: str, rtl: bool) -> str:
    """The marker paragraph with ``lines`` in it. The template is finished (language, direction)
    before any text goes in, so nothing a person typed ("§LANG§") is ever read as a marker."""
    paragraph = paragraph.replace(_LANG, attributes)
    if rtl:
        # The postal block reads as its address does (a Persian role over a Latin address);
        # date, subject and copies are lines of the letter's language that may start with a
        # Latin word (a town, "Re:").
        shown = lines[1:] if part == ADDRESSEE and len(lines) > 1 else lines
        if part in (DATE, SUBJECT, COPIES) or _starts_right_to_left(shown):
            paragraph = _right_to_left(paragraph)
        else:
            paragraph = _mirrored(paragraph)
    marker = f"<w:t>{_MARKER.format(part)}</w:t>"
    return paragraph.replace(marker, _runs(lines))


def _starts_right_to_left(lines: Sequence[str]) -> bool:
    """Whether the first strongly directed character is right-to-left (HTML's ``dir=auto``):
    a Latin address in a Persian letter keeps its order ("8001 Zürich", not "Zürich 8001")."""
    for char in "".join(lines):
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return True


def _right_to_left(paragraph: str) -> str:
    """A right-to-left paragraph: ``w:bidi`` makes it start at the right margin (Word and
    LibreOffice read ``w:jc`` logically there: the date goes to the left, the end side), and
    ``w:rtl`` orders its run right to left."""
    paragraph = _with_paragraph_properties(paragraph)
    # w:bidi's place among its siblings: before the spacing, indentation and alignment.
    paragraph = re.sub(
        r"(<w:pPr>.*?)(<w:spacing|<w:ind|<w:jc|<w:rPr>|</w:pPr>)",
        r"\1<w:bidi/>\2",
        paragraph,
        count=1,
        flags=re.S,
    )
    return paragraph.replace("<w:lang ", "<w:rtl/><w:lang ")


def _mirrored(paragraph: str) -> str:
    """A left-to-right paragraph (a Latin address) in a right-to-left letter: it keeps its own
    direction and takes the mirrored side of the page, right where others are left."""
    if '<w:jc w:val="right"/>' in paragraph:
        return paragraph.replace('<w:jc w:val="right"/>', '<w:jc w:val="left"/>')
    if "<w:jc " in paragraph:
        return paragraph  # justified: both margins already
    paragraph = _with_paragraph_properties(paragraph)
    return re.sub(
        r"(<w:pPr>.*?)(<w:rPr>|</w:pPr>)",
        r'\1<w:jc w:val="right"/>\2',
        paragraph,
        count=1,
        flags=re.S,
    )


def _with_paragraph_properties(paragraph: str) -> str:
    if "<w:pPr>" in paragraph:
        return paragraph
    return paragraph.replace("<w:p>", "<w:p><w:pPr></w:pPr>", 1)


def _paragraphs(text: str) -> list[list[str]]:
    """Blank-line separated paragraphs, each a list of its lines."""
    return [
        [line.strip() for line in block.strip().splitlines()]
        for block in re.split(r"\n\s*\n", text.strip())
        if block.strip()
    ]


def _city(place: str) -> str:
    """ "8001 Zürich, Switzerland" -> "Zürich": the date line names the town, without the
    country and without postcodes (leading and trailing words with digits: "SW1A 1AA")."""
    first = place.split(",")[0].split()
    words = list(first)
    while words and any(char.isdigit() for char in words[0]):
        words.pop(0)
    while words and any(char.isdigit() for char in words[-1]):
        words.pop()
    return " ".join(words or first)


def date_line(letter: Letter) -> str:
    """ "Zürich, 29. November 2026" / "Lyon, le 29 novembre 2026" / "29 November 2026" /
    "Le 1er mars 2026": the sender's town, else the organisation's (``date_place``), else
    the date alone, each as the letter's language writes it."""
    when = format_letter_date(letter.on, letter_locale(letter.language, letter.region))
    place = _city(letter.sender_place) if letter.sender_place else letter.date_place
    with use_locale(strings_language(letter.language)):
        if not place:
            # Translators: the date line of a letter without a place; French writes
            # "Le {date}", most languages the date alone.
            return pgettext("letter date line", "{date}").format(date=when)
        # Translators: the date line of a letter: the sender's town, then the date.
        return _("{place}, {date}").format(place=place, date=when)


def subject_line(letter: Letter) -> str | None:
    """ "Re: …" / "Betreff: …" / "Objet : …", or None without a subject."""
    if letter.subject is None:
        return None
    if letter.template.subject_prefix is not None:
        return f"{letter.template.subject_prefix} {letter.subject}"
    with use_locale(strings_language(letter.language)):
        # Translators: the subject line of a letter.
        return _("Re: {subject}").format(subject=letter.subject)


def copies_line(letter: Letter) -> str | None:
    """ "Copy to: Ambassador of Kazakhstan" with the roles in the letter's language."""
    if not letter.copies:
        return None
    roles = [letter.role(addressee) for addressee in letter.copies]
    locale = letter_locale(letter.language, letter.region)
    if letter.template.copies_prefix is not None:
        return f"{letter.template.copies_prefix} {format_list(roles, locale=locale)}"
    with use_locale(strings_language(letter.language)):
        # Translators: the foot of a letter, listing who else receives a copy.
        return _("Copy to: {roles}").format(roles=format_list(roles, locale=locale))


def _translation_heading(letter: Letter, translation: Letter) -> str:
    with use_locale(strings_language(translation.language)):
        return _(
            "Translation for you into {language}: do not send this page. Send the pages "
            "before this one, the letter in {letter_language}."
        ).format(
            language=language_name(translation.language, strings_language(translation.language)),
            letter_language=language_name(letter.language, strings_language(translation.language)),
        )


def _content(letter: Letter) -> dict[str, list[list[str]]]:
    """Each part's paragraphs (each a list of lines); an empty list leaves the part out."""
    addressee = letter.addressee
    subject, copies = subject_line(letter), copies_line(letter)
    return {
        SENDER: [[letter.sender_name, *([letter.sender_place] if letter.sender_place else [])]],
        DATE: [[date_line(letter)]],
        # An addressee reached only by e-mail gets no postal block (and never a bare role).
        ADDRESSEE: (
            [] if addressee.address is None
            else [[letter.role(addressee), *addressee.address.splitlines()]]
        ),
        SUBJECT: [[subject]] if subject else [],
        SALUTATION: [[letter.salutation]],
        BODY: _paragraphs(letter.template.body),
        PERSONAL: _paragraphs(letter.personal) if letter.personal else [],
        CLOSING: [[letter.closing]],
        SIGNATURE: [[letter.sender_name]],
        COPIES: [[copies]] if copies else [],
    }  # fmt: skip


def _body(letter: Letter, paragraphs: dict[str, str]) -> str:
    attributes, rtl = _direction(letter)
    content = _content(letter)
    return "".join(
        _fill(paragraphs[part], part, lines, attributes, rtl)
        for part in _LETTER_PARTS
        for lines in content[part]
    )


def _direction(letter: Letter) -> tuple[str, bool]:
    """The letter's ``w:lang`` attributes and whether it is written right to left."""
    locale = letter_locale(letter.language, letter.region)
    return _language_attributes(locale), is_right_to_left(letter.language)


def compose(letter: Letter) -> bytes:
    """The finished .docx for ``letter`` (with its translation page, if it has one)."""
    template = _template()
    body = _body(letter, template.paragraphs)
    if letter.translation is not None:
        translation = letter.translation
        attributes, rtl = _direction(translation)
        heading = _translation_heading(letter, translation)
        body += _fill(template.paragraphs[TRANSLATION], TRANSLATION, [heading], attributes, rtl)
        body += _body(translation, template.paragraphs)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in _parts_in(_direction(letter)[0]):
            archive.writestr(name, data)
        archive.writestr("word/document.xml", template.head + body + template.tail)
    return buffer.getvalue()
