"""Deep-link payloads: the case's name in a link, and what a payload asks for."""

from __future__ import annotations

import pytest

from bot.actions.links import (
    StartRequest,
    case_payload,
    deep_link,
    parse_payload,
    parse_typed,
    session_payload,
    share_url,
    write_payload,
)


def test_a_case_number_becomes_a_payload_and_back() -> None:
    assert case_payload("UA 046/19") == "ua-046-19"
    assert write_payload("UA 046/19") == "write-ua-046-19"
    assert parse_payload("ua-046-19") == StartRequest("UA 046/19")
    assert parse_payload("write-ua-046-19") == StartRequest("UA 046/19", write=True)
    assert parse_payload("UA-046-19") == StartRequest("UA 046/19")


@pytest.mark.parametrize("payload", ["ua-046-19-2", "fi-046-19-2", "FI-046-19-12"])
def test_a_follow_ups_label_names_its_case(payload: str) -> None:
    """``FI 046/19-2`` (a follow-up's label) and ``UA 046/19-2`` as a payload: the case."""
    assert parse_payload(payload) == StartRequest("UA 046/19")
    assert parse_payload("write-" + payload) == StartRequest("UA 046/19", write=True)


@pytest.mark.parametrize("typed", ["UA 046/19", "ua 046/19", " 046/19 ", "FI 046/19-2"])
def test_a_case_number_typed_after_start_names_the_case(typed: str) -> None:
    assert parse_typed(typed) == StartRequest("UA 046/19")


@pytest.mark.parametrize("typed", ["ua 013/26!", "hello there", "UA 046/19 please"])
def test_other_words_after_start_are_a_plain_start(typed: str) -> None:
    assert parse_typed(typed) is None


@pytest.mark.parametrize("payload", ["", "ua 046/19", "x" * 65, "ua-046-19\n", "ü"])
def test_payloads_telegram_never_sends_are_refused(payload: str) -> None:
    assert parse_payload(payload) is None


@pytest.mark.parametrize(
    "payload", ["hello", "ua-046", "write-", "write-hello", "ua-046-19-x", "fi-046"]
)
def test_a_payload_naming_no_case_says_so(payload: str) -> None:
    request = parse_payload(payload)
    assert request is not None and request.case is None


def test_links() -> None:
    assert deep_link("uabot", "ua-046-19") == "https://t.me/uabot?start=ua-046-19"
    assert share_url("https://t.me/uabot?start=ua-1-26", "UA 1/26: Free her & now") == (
        "https://t.me/share/url?url=https%3A%2F%2Ft.me%2Fuabot%3Fstart%3Dua-1-26"
        "&text=UA%201%2F26%3A%20Free%20her%20%26%20now"
    )


def test_a_session_payload_names_the_session_and_asks_for_the_letter() -> None:
    token = "Xy_3-kQ9fLmN0pRsTuVwZa"  # secrets.token_urlsafe(16): case and "-_" kept
    assert session_payload(token) == f"session-{token}"
    assert parse_payload(f"session-{token}") == StartRequest(None, write=True, session=token)
    assert parse_payload(f"Session-{token}") == StartRequest(None, write=True, session=token)
    # Not a session: no token.
    assert parse_payload("session-") == StartRequest(None)
