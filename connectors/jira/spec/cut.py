"""Cut ``swagger-v3.subset.json`` from Atlassian's full description (run by hand, not by tests).

``python connectors/jira/spec/cut.py <swagger-v3.v3.json>`` keeps the operations below and every
component schema they reach, then applies the amendments listed in ``SOURCE.md`` (each one a
difference between the description and what Jira Cloud sends that the description itself shows
elsewhere). The output is sorted and indented so a re-cut diffs cleanly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = {
    "/rest/api/3/project/search": ["get"],
    "/rest/api/3/project/{projectIdOrKey}": ["get"],
    "/rest/api/3/project/{projectIdOrKey}/statuses": ["get"],
    "/rest/api/3/search/jql": ["get", "post"],
    "/rest/api/3/issue": ["post"],
    "/rest/api/3/issue/{issueIdOrKey}": ["get", "put", "delete"],
    "/rest/api/3/issue/{issueIdOrKey}/transitions": ["get", "post"],
    "/rest/api/3/issue/{issueIdOrKey}/comment": ["get", "post"],
    "/rest/api/3/issue/{issueIdOrKey}/comment/{id}": ["get", "put", "delete"],
    "/rest/api/3/user/assignable/search": ["get"],
    "/rest/api/3/label": ["get"],
    "/rest/api/3/priority": ["get"],
    "/rest/api/3/priority/search": ["get"],
    "/rest/api/3/statuscategory": ["get"],
    "/rest/api/3/field": ["get"],
    "/rest/api/3/myself": ["get"],
}
# what Jira writes (and the description's own examples show): 2021-01-17T12:34:00.000+0000
JIRA_DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$"
ERROR_COLLECTION = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorCollection"}}}


def references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].split("/")[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(references(value) for value in node))
    return set()


def jira_date_times(node: Any) -> Any:
    """``format: date-time`` (RFC 3339 wants ``+00:00``) becomes the pattern of Jira's own form."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            node = {**{k: v for k, v in node.items() if k != "format"}, "pattern": JIRA_DATE_TIME}
        return {key: jira_date_times(value) for key, value in node.items()}
    if isinstance(node, list):
        return [jira_date_times(value) for value in node]
    return node


def amend(operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        if status.startswith("4") and not response.get("content"):
            response["content"] = ERROR_COLLECTION   # Jira answers errors with an ErrorCollection
        if status == "204":
            response.pop("content", None)            # 204 No Content has no body


def cut(source: dict[str, Any]) -> dict[str, Any]:
    paths = {path: {method: source["paths"][path][method] for method in methods}
             for path, methods in OPERATIONS.items()}
    for item in paths.values():
        for operation in item.values():
            amend(operation)
    schemas = source["components"]["schemas"]
    wanted, todo = set(), references(paths) | {"ErrorCollection"}
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo |= references(schemas[name]) - wanted
    return {"openapi": source["openapi"], "info": source["info"], "servers": source["servers"],
            "paths": paths, "components": {
                "schemas": {name: jira_date_times(schemas[name]) for name in sorted(wanted)},
                "securitySchemes": source["components"].get("securitySchemes", {})}}


if __name__ == "__main__":
    document = json.loads(Path(sys.argv[1]).read_text())
    out = Path(__file__).with_name("swagger-v3.subset.json")
    out.write_text(json.dumps(cut(document), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{out}: {len(OPERATIONS)} paths")
