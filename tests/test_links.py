"""Deep-link payloads: the case's name in a link, and what a payload asks for."""

from __future__ import annotations

import pytest

from bot.actions.links import (
    StartRequest,
    case_payload,
    deep_link,
    parse_payload,
    share_url,
    write_payload,
)


def test_a_case_number_becomes_a_payload_and_back() -> None:
    assert case_payload("UA 046/19") == "ua-046-19"
    assert write_payload("UA 046/19") == "write-ua-046-19"
    assert parse_payload("ua-046-19") == StartRequest("UA 046/19")
    assert parse_payload("write-ua-046-19") == StartRequest("UA 046/19", write=True)
    assert parse_payload("UA-046-19") == StartRequest("UA 046/19")


@pytest.mark.parametrize("payload", ["", "ua 046/19", "x" * 65, "ua-046-19\n", "ü"])
def test_payloads_telegram_never_sends_are_refused(payload: str) -> None:
    assert parse_payload(payload) is None


@pytest.mark.parametrize("payload", ["hello", "ua-046", "write-", "write-hello", "ua-046-19-2"])
def test_a_payload_naming_no_case_says_so(payload: str) -> None:
    request = parse_payload(payload)
    assert request is not None and request.case is None


def test_links() -> None:
    assert deep_link("uabot", "ua-046-19") == "https://t.me/uabot?start=ua-046-19"
    assert share_url("https://t.me/uabot?start=ua-1-26", "UA 1/26: Free her & now") == (
        "https://t.me/share/url?url=https%3A%2F%2Ft.me%2Fuabot%3Fstart%3Dua-1-26"
        "&text=UA%201%2F26%3A%20Free%20her%20%26%20now"
    )
