"""Escaping and splitting for Telegram's HTML parse mode."""

from __future__ import annotations

from bot.ptb.text import MESSAGE_LIMIT, escape, pack, paragraphs, visible_length


def test_escape_keeps_text_visible_as_typed() -> None:
    assert escape('A < B & C > D "q"') == 'A &lt; B &amp; C &gt; D "q"'
    assert visible_length("<b>" + escape("a<b") + "</b>") == 3


def test_visible_length_counts_utf16_units_as_telegram_does() -> None:
    assert visible_length("😀") == 2
    assert visible_length("é") == 1


def test_long_text_is_split_at_paragraphs_and_never_over_the_limit() -> None:
    body = "\n\n".join(f"Paragraph {n}. " + "word " * 300 for n in range(12))
    messages = pack(paragraphs(body))
    assert len(messages) > 1
    assert all(visible_length(message) <= MESSAGE_LIMIT for message in messages)
    # Every message starts at a paragraph boundary.
    assert all(message.startswith("Paragraph ") for message in messages)
    assert sum(message.count("Paragraph ") for message in messages) == 12


def test_one_giant_paragraph_is_cut_at_spaces() -> None:
    blocks = paragraphs("word " * 3000)
    assert len(blocks) > 1
    assert all(visible_length(block) <= MESSAGE_LIMIT for block in blocks)
    assert all(not block.startswith(" ") and not block.endswith(" ") for block in blocks)
