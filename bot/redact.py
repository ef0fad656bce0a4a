"""Secrets out of text: the bot token and proxy passwords, wherever a URL carried them.

The HTTP layer redacts every exception it raises with :func:`redact`; a logging filter can run
the same function over records as a second line. Two generic patterns need no secret to be
known: a token in a Bot API path (``/bot123456:SECRET/``, ``/file/bot123456:SECRET/``) keeps
the bot's public id and loses its secret half, and a URL's user and password
(``http://user:SECRET@proxy``) become ``http://***@proxy``. Known secrets are replaced wherever
they occur, also percent-encoded, as URLs carry them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

__all__ = ["MASK", "proxy_secrets", "redact", "token_secrets", "without_userinfo"]

MASK = "***"

# The secret half of a token in a Bot API path; Telegram's are [A-Za-z0-9_-], a percent-encoded
# or otherwise odd one still ends at the next path separator, quote or space.
_TOKEN_IN_PATH = re.compile(r"(/bot\d+)(?::|%3[Aa])[^/\s'\"?#]+")
# A URL's whole userinfo: everything between ``scheme://`` and the last ``@`` before the next
# space or quote. A password with a raw ``/``, ``@``, ``#`` or ``?`` (which the config refuses)
# still ends at its last ``@``; masking a path's ``@`` too costs nothing.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s'\"<>]*@")
# Shorter exact secrets would mask ordinary letters; the patterns above still catch them in URLs.
_MIN_SECRET = 4


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every token, URL password and each of ``secrets`` masked."""
    text = _TOKEN_IN_PATH.sub(rf"\1:{MASK}", text)
    text = _USERINFO.sub(rf"\g<scheme>{MASK}@", text)
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, MASK)
    return text


def token_secrets(token: str) -> tuple[str, ...]:
    """The token and its secret half (after the colon): what must never be shown."""
    _, _, half = token.partition(":")
    return (token, half) if half else (token,)


def proxy_secrets(proxy: str | None) -> tuple[str, ...]:
    """A proxy URL's password, raw and as aiohttp sends it (``Proxy-Authorization: Basic``)."""
    if not proxy:
        return ()
    parts = urlsplit(proxy)
    if parts.password is None:
        return ()
    user, password = unquote(parts.username or ""), unquote(parts.password)
    basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return (password, parts.password, basic)


def without_userinfo(url: str) -> str:
    """``url`` without its user name and password, for saying which proxy is used."""
    return _USERINFO.sub(r"\g<scheme>", url)
