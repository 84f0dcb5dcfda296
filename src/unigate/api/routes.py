"""The unified routes: every operation of the unified model (``unigate.unified``), at its path and method."""

from __future__ import annotations

import re
from urllib.parse import unquote

from unigate.errors import MethodNotAllowedError, RequestValidationError
from unigate.unified import UNIFIED

# (path, method) -> (resource, operation), from the unified model (which names each operationId)
OPERATIONS: dict[str, dict[str, tuple[str, str]]] = UNIFIED.routes()


MAX_ID_LENGTH = 512
_UNSAFE_ID = re.compile(r"[/\\\x00-\x1f\x7f]")


def request_segments(path: str, raw_path: bytes | None) -> list[str]:
    """The request path's segments, each percent-decoded once: ``a%2Fb`` stays one segment ``a/b``.

    The server hands us the path already decoded (``scope["path"]``), where an encoded ``/`` would
    have become a separator; the raw path is split first when it holds any escape.
    """
    if raw_path is not None and b"%" in raw_path:
        return [unquote(segment) for segment in _trim(raw_path.decode("latin-1")).split("/")]
    return _trim(path).split("/")


def _trim(path: str) -> str:
    """Without the leading slash and one trailing slash: ``/a/b/`` -> ``a/b``; ``/a//`` -> ``a/``."""
    path = path[1:] if path.startswith("/") else path
    return path[:-1] if path.endswith("/") else path


def check_path_params(params: dict[str, str]) -> None:
    """Refuse ids that could reach another endpoint downstream: ``.``/``..``, empty, ``/``, ``\\``, controls."""
    for name, value in params.items():
        if value in ("", ".", "..") or _UNSAFE_ID.search(value) or len(value) > MAX_ID_LENGTH:
            raise RequestValidationError(
                "Invalid path parameter",
                {name: f"an id is 1 to {MAX_ID_LENGTH} characters, not '.' or '..', without '/', '\\' or "
                       f"control characters; got {value[:80]!r}"})


def method_not_allowed(method: str, path: str, allowed: list[str]) -> MethodNotAllowedError:
    """405 with ``Allow``: the route's methods (HEAD wherever GET is)."""
    return MethodNotAllowedError(method, path, sorted({*allowed, *(["HEAD"] if "GET" in allowed else [])}))


class RouteTable:
    """Matches a request path to its operations without regexes: by segment count, then literals.

    ``match("/issue-tracking/collections/7/tickets")`` → ``({"GET": ("tickets", "all"), ...},
    {"collection_id": "7"})``, or ``None``. A trailing slash is ignored. A parameter matches any
    segment, even an empty or hostile one: ``check_path_params`` refuses those with a 400 that
    names the parameter, rather than a 404 that hides why.
    """

    def __init__(self, operations: dict[str, dict[str, tuple[str, str]]] = OPERATIONS) -> None:
        self._by_length: dict[int, list[tuple[tuple[str | None, ...], tuple[str, ...], dict[str, tuple[str, str]]]]] = {}
        for path, methods in operations.items():
            parts = path.strip("/").split("/")
            pattern = tuple(None if p.startswith("{") else p for p in parts)
            names = tuple(p[1:-1] for p in parts if p.startswith("{"))
            self._by_length.setdefault(len(parts), []).append((pattern, names, methods))

    def match(self, path: str | list[str]) -> tuple[dict[str, tuple[str, str]], dict[str, str]] | None:
        parts = _trim(path).split("/") if isinstance(path, str) else path
        for pattern, names, methods in self._by_length.get(len(parts), ()):
            values = []
            for expected, actual in zip(pattern, parts, strict=True):
                if expected is None:
                    values.append(actual)
                elif expected != actual:
                    break
            else:
                return methods, dict(zip(names, values, strict=True))
        return None
