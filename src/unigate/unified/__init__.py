"""The unified model, defined once: Apideck Issue Tracking's resources, operations, fields (with
their read-only and list flags), list filters and sort fields.

Everything that knows the unified API's shape derives from ``UNIFIED``: the routes
(``unigate.api.routes``), the request body models (``unigate.api.bodies``), query parsing
(``unigate.api.params``), the mapping file's literals (``unigate.mapping.spec``, and
``unigate.unified.manifest.manifest_model`` for any model) and its semantic checks
(``unigate.mapping.checks``). tests/test_unified_model.py holds this definition against Apideck's
description shipped in the package (``src/unigate/openapi/issue-tracking.yml``) in both directions:
the spec is the oracle.

Adding a filter is one edit here: a ``Filter(name, kind)`` in its list operation. Query parsing
and the mapping file's schema and checks follow; a ``string`` filter is sent downstream as given,
and the engine (``unigate.connector.query``) renders the ``status`` and ``since`` ones.

``custom_mappings`` (on every object) and ``pass_through`` (on the bodies of writable resources)
are properties of the spec the engine provides to every resource, so they are not listed here.
"""

from __future__ import annotations

from unigate.unified.model import Field, Filter, Limit, ObjectSchema, Operation, OperationKind, Resource, UnifiedModel, literal

_ID = Field("id", read_only=True)
_STAMPS = (Field("updated_at", read_only=True, format="date-time"),
           Field("created_at", read_only=True, format="date-time"))
_CREATED_BY = Field("created_by", read_only=True)
_SORT_BY_TIME = ("created_at", "updated_at")

ASSIGNEE = ObjectSchema("Assignee", (Field("id", required=True), Field("username", read_only=True)),
                        custom_mappings=False)
TAG = ObjectSchema("CollectionTag", (Field("id"), Field("name", read_only=True)))
TICKET = ObjectSchema("Ticket", (
    _ID, Field("parent_id"), Field("collection_id", read_only=True), Field("type"), Field("subject"),
    Field("description"), Field("status"), Field("priority", enum=("low", "normal", "high", "urgent")),
    Field("assignees", items=ASSIGNEE), *_STAMPS, _CREATED_BY, Field("due_date", format="date-time"),
    Field("completed_at", read_only=True, format="date-time"), Field("tags", items=TAG),
))
COMMENT = ObjectSchema("CollectionTicketComment", (_ID, Field("body"), _CREATED_BY, *_STAMPS))
COLLECTION = ObjectSchema("Collection", (
    _ID, Field("parent_id"), Field("type"), Field("name"), Field("description"), *_STAMPS))
USER = ObjectSchema("CollectionUser", (
    _ID, Field("name"), Field("first_name"), Field("last_name"), Field("email"), Field("photo_url"), *_STAMPS))

UNIFIED = UnifiedModel(
    prefix="/issue-tracking",
    kinds=(OperationKind("all", "GET", on_item=False), OperationKind("one", "GET", on_item=True),
           OperationKind("add", "POST", on_item=False), OperationKind("update", "PATCH", on_item=True),
           OperationKind("delete", "DELETE", on_item=True)),
    resources=(
        Resource("collections", COLLECTION, parent=None, id_param="collection_id", operations=(
            Operation("all", "collectionsAll", "List Collections", sort=("name", *_SORT_BY_TIME)),
            Operation("one", "collectionsOne", "Get Collection"),
        )),
        Resource("tickets", TICKET, parent="collections", id_param="ticket_id", operations=(
            Operation("all", "collectionTicketsAll", "List Tickets", sort=_SORT_BY_TIME, filters=(
                Filter("status", "list"), Filter("since", "date-time"), Filter("assignee_id", "string"))),
            Operation("one", "collectionTicketsOne", "Get Ticket"),
            Operation("add", "collectionTicketsAdd", "Create Ticket"),
            Operation("update", "collectionTicketsUpdate", "Update Ticket"),
            Operation("delete", "collectionTicketsDelete", "Delete Ticket"),
        )),
        Resource("comments", COMMENT, parent="tickets", id_param="id", operations=(
            Operation("all", "collectionTicketCommentsAll", "List Comments", sort=_SORT_BY_TIME),
            Operation("one", "collectionTicketCommentsOne", "Get Comment"),
            Operation("add", "collectionTicketCommentsAdd", "Create Comment"),
            Operation("update", "collectionTicketCommentsUpdate", "Update Comment"),
            Operation("delete", "collectionTicketCommentsDelete", "Delete Comment"),
        )),
        Resource("users", USER, parent="collections", id_param="id", operations=(
            Operation("all", "collectionUsersAll", "List Users"),
            Operation("one", "collectionUsersOne", "Get user"),
        )),
        Resource("tags", TAG, parent="collections", id_param=None, operations=(
            Operation("all", "collectionTagsAll", "List Tags"),
        )),
    ),
    limit=Limit(default=20, minimum=1, maximum=200),
    sort_directions=("asc", "desc"),
    default_direction="asc",
)

__all__ = ["UNIFIED", "Field", "Filter", "Limit", "ObjectSchema", "Operation", "OperationKind", "Resource",
           "UnifiedModel", "literal"]
