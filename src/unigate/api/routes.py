"""The unified routes: every Issue Tracking operation of the spec, at its path and method."""

from __future__ import annotations

PREFIX = "/issue-tracking"
COLLECTION = f"{PREFIX}/collections/{{collection_id}}"
TICKET = f"{COLLECTION}/tickets/{{ticket_id}}"

# (path, method) -> (resource, operation); the spec's operationIds in comments
OPERATIONS: dict[str, dict[str, tuple[str, str]]] = {
    f"{PREFIX}/collections": {"GET": ("collections", "all")},                      # collectionsAll
    COLLECTION: {"GET": ("collections", "one")},                                    # collectionsOne
    f"{COLLECTION}/tickets": {"GET": ("tickets", "all"), "POST": ("tickets", "add")},
    TICKET: {"GET": ("tickets", "one"), "PATCH": ("tickets", "update"), "DELETE": ("tickets", "delete")},
    f"{TICKET}/comments": {"GET": ("comments", "all"), "POST": ("comments", "add")},
    f"{TICKET}/comments/{{id}}": {"GET": ("comments", "one"), "PATCH": ("comments", "update"),
                                  "DELETE": ("comments", "delete")},
    f"{COLLECTION}/users": {"GET": ("users", "all")},                               # collectionUsersAll
    f"{COLLECTION}/users/{{id}}": {"GET": ("users", "one")},                        # collectionUsersOne
    f"{COLLECTION}/tags": {"GET": ("tags", "all")},                                 # collectionTagsAll
}


class RouteTable:
    """Matches a request path to its operations without regexes: by segment count, then literals.

    ``match("/issue-tracking/collections/7/tickets")`` → ``({"GET": ("tickets", "all"), ...},
    {"collection_id": "7"})``, or ``None``. A trailing slash is ignored; a parameter never matches
    an empty segment.
    """

    def __init__(self, operations: dict[str, dict[str, tuple[str, str]]] = OPERATIONS) -> None:
        self._by_length: dict[int, list[tuple[tuple[str | None, ...], tuple[str, ...], dict[str, tuple[str, str]]]]] = {}
        for path, methods in operations.items():
            parts = path.strip("/").split("/")
            pattern = tuple(None if p.startswith("{") else p for p in parts)
            names = tuple(p[1:-1] for p in parts if p.startswith("{"))
            self._by_length.setdefault(len(parts), []).append((pattern, names, methods))

    def match(self, path: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]] | None:
        parts = path.strip("/").split("/")
        for pattern, names, methods in self._by_length.get(len(parts), ()):
            values = []
            for expected, actual in zip(pattern, parts):
                if expected is None:
                    if not actual:
                        break
                    values.append(actual)
                elif expected != actual:
                    break
            else:
                return methods, dict(zip(names, values))
        return None
