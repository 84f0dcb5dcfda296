"""Where a proxied call may go: the connection's own origin, nothing else (SSRF).

``resolve_target(value, base_url)`` turns ``x-apideck-downstream-url`` into the URL the call is
sent to, or raises ``Refused`` with the reason. The rules:

- a relative value (``/tickets?state=open``, ``tickets``) is appended to the connection's base
  URL, as the connector's own paths are (``base_url + "/" + path``);
- an absolute value must name the base URL's origin: the same scheme, the same host *written the
  same way* (``127.0.0.1`` is not ``localhost``, ``127.1``, ``2130706433``, ``0x7f.0.0.1``,
  ``[::ffff:127.0.0.1]``, ``127.0.0.1.``, ``127.0.0.1%2e`` nor ``127。0。0。1``: no DNS lookup, no
  address arithmetic, no IDNA mapping decides it) and the same port, without userinfo;
- refused outright: protocol-relative ``//host``, backslashes, whitespace and control
  characters, non-ASCII characters outside the path, other schemes.

Both forms are also parsed (``httpx.URL``, which normalises case, default ports, IDNA and dot
segments) and compared with the base URL's parsed origin. The URL returned is then *built* from
the base URL's origin and only the path and query of the value, so what was checked is what is
connected to, whatever another parser would make of the value.
"""

from __future__ import annotations

import re

import httpx

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")  # controls, space, backslash (read as '/' by browsers, WHATWG)
MAX_URL_LENGTH = 8192


class Refused(ValueError):
    """The downstream URL may not be called; the message says why (no secrets in it)."""


def resolve_target(value: str, base_url: str) -> httpx.URL:
    """The URL to call for ``x-apideck-downstream-url`` ``value`` on a connection at ``base_url``."""
    if not value:
        raise Refused("the downstream URL is empty")
    if len(value) > MAX_URL_LENGTH:
        raise Refused(f"the downstream URL is longer than {MAX_URL_LENGTH} characters")
    if _FORBIDDEN.search(value):
        raise Refused("the downstream URL contains a backslash, whitespace or a control character")
    base = httpx.URL(base_url)
    if value.startswith("//"):
        raise Refused("a protocol-relative downstream URL (//host) is not accepted; use a path or this "
                      "connection's own origin")
    if _SCHEME.match(value):
        _check_literal_origin(value, base)
        target = _parse(value)
    else:
        target = _parse(base_url.rstrip("/") + ("" if value.startswith("/") else "/") + value)
    _check_parsed_origin(target, base)
    raw_path = target.raw_path if target.raw_path.startswith(b"/") else b"/" + target.raw_path
    if raw_path.startswith(b"//"):
        raise Refused("the downstream path may not begin with //")
    return base.copy_with(raw_path=raw_path, fragment=None)


def origin(url: httpx.URL) -> str:
    """``scheme://host[:port]`` for messages."""
    netloc = url.netloc.decode("ascii")
    return f"{url.scheme}://{netloc}"


def _parse(text: str) -> httpx.URL:
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise Refused("the downstream URL is not a valid URL") from None


def _check_literal_origin(value: str, base: httpx.URL) -> None:
    """The scheme and authority as the client wrote them, before any normalisation."""
    scheme, _, rest = value.partition(":")
    if scheme.lower() not in ("http", "https"):
        raise Refused(f"the scheme {scheme.lower()[:20]!r} is not accepted; only this connection's origin "
                      f"{origin(base)} may be called")
    if not rest.startswith("//"):
        raise Refused("an absolute downstream URL must be scheme://host/path")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise Refused("userinfo (user@host) is not accepted in the downstream URL")
    if not authority.isascii():
        raise Refused("the downstream URL's host must be written in ASCII, as in the connection's base URL")
    host = _literal_host(authority).lower()
    allowed = {base.host.lower(), base.raw_host.decode("ascii").lower()}
    if host not in allowed or scheme.lower() != base.scheme:
        raise Refused(f"only this connection's origin {origin(base)} may be called")


def _literal_host(authority: str) -> str:
    if authority.startswith("["):
        return authority[1:authority.find("]")] if "]" in authority else authority
    return authority.rsplit(":", 1)[0] if ":" in authority else authority


def _check_parsed_origin(target: httpx.URL, base: httpx.URL) -> None:
    if target.userinfo:
        raise Refused("userinfo (user@host) is not accepted in the downstream URL")
    if (target.scheme, target.raw_host.lower(), target.port) != (base.scheme, base.raw_host.lower(), base.port):
        raise Refused(f"only this connection's origin {origin(base)} may be called")
