"""Secrets out of text: the bot token and proxy credentials, wherever a URL carries them.

An exception's text may hold the request URL (``…/bot<token>/getMe``) or a proxy URL with its
password; anything printed or logged goes through :func:`redact` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"

# ``bot<digits>:<secret>`` as in every Bot API URL, whatever the token.
_TOKEN_IN_URL = re.compile(r"(?<=bot)\d+:[A-Za-z0-9_-]+")
# ``scheme://user:password@`` (or ``scheme://user@``): the userinfo of any URL.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
# Shorter exact secrets would mask ordinary words; the patterns above still catch them in URLs.
_MIN_SECRET = 4


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every given secret, any Bot API token and any URL userinfo masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len)[::-1]:
        text = text.replace(secret, MASK)
    text = _TOKEN_IN_URL.sub(MASK, text)
    return _USERINFO.sub(rf"\g<scheme>{MASK}@", text)


def token_secrets(token: str) -> list[str]:
    """The token and its secret half (after the colon): either one alone gives the bot away."""
    _, _, secret = token.partition(":")
    return [token, secret] if secret else [token]


def url_secrets(url: str | None) -> list[str]:
    """The password of a URL such as ``http://user:pass@proxy:3128``, as written and decoded.

    The user name is not masked on its own (it is often a plain word); in a URL it is.
    """
    if not url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def without_userinfo(url: str) -> str:
    """``url`` without its user name and password, for saying which proxy is used."""
    return _USERINFO.sub(r"\g<scheme>", url)
