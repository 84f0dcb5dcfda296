"""Roundup's named components, referred to by name from connectors/roundup/manifest.yaml.

- ``roundup_datetime`` (transform): Roundup dates ``2024-05-01.10:00:00`` (UTC) to ISO and back.
- ``roundup_element`` (preparer): an element body ``{id, type, link, attributes, @etag}`` (what
  ``GET /<class>/<id>`` answers) as a flat record ``{id, **attributes}``, like the list items.
- ``roundup_keywords`` (preparer, writes): tags given by name become keyword ids; Roundup links
  only existing keywords, so a missing one is created (the keyword list is cached per connection).
"""

from __future__ import annotations

from typing import Any

from unigate.kit import Connector, OperationContext, Transform, datetime_writer, read_datetime

ROUNDUP_DATE = "%Y-%m-%d.%H:%M:%S"


def _read_roundup_date(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == ".":
        value = f"{value[:10]}T{value[11:]}Z"
    return read_datetime(value)


def roundup_datetime(options: dict[str, Any]) -> Transform:
    return Transform(_read_roundup_date, datetime_writer(ROUNDUP_DATE))


async def roundup_element(connector: Connector, ctx: OperationContext, records: list[Any],
                          options: dict[str, Any]) -> list[Any]:
    return [{"id": r.get("id"), **r["attributes"]} if isinstance(r, dict) and isinstance(r.get("attributes"), dict)
            else r for r in records]


async def roundup_keywords(connector: Connector, ctx: OperationContext, records: list[Any],
                           options: dict[str, Any]) -> list[Any]:
    for body in records:
        names = [k for k in body.get("keyword") or [] if not str(k).isdigit()]
        if names:
            ids = await _keyword_ids(connector, ctx, names)
            body["keyword"] = [k if str(k).isdigit() else ids[k] for k in body["keyword"]]
    return records


async def _keyword_ids(connector: Connector, ctx: OperationContext, names: list[str]) -> dict[str, str]:
    keywords = await connector.lookup(ctx, "tickets_keywords", "/keyword", "$.data.collection",
                                      params=[("@fields", "name")])
    ids = {str(k.get("name")): str(k.get("id")) for k in keywords}
    for name in dict.fromkeys(names):
        if name not in ids:
            created = await ctx.call("tickets_keywords_add", "POST", "/keyword", body={"name": name})
            ids[name] = str(created.body["data"]["id"])
            connector.forget(ctx, "tickets_keywords")
    return ids


roundup_keywords.calls = {"tickets_keywords": ("GET", "/keyword"),  # type: ignore[attr-defined]
                          "tickets_keywords_add": ("POST", "/keyword")}
