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
