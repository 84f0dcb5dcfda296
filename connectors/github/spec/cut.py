"""Re-cut ``api.github.com.issues.json`` from a fuller GitHub description (a maintainer's tool).

``python connectors/github/spec/cut.py SOURCE.json`` keeps the operations in ``PATHS`` (the ones
the simulator serves) and every component they reference, transitively, then adds the
``/repositories/{repository_id}`` path GitHub serves but does not describe (see SOURCE.md).
Nothing at run or test time needs the source; the cut file is committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PATHS = {
    "/user": ["get"], "/user/repos": ["get"], "/repos/{owner}/{repo}": ["get"], "/rate_limit": ["get"],
    "/repos/{owner}/{repo}/assignees": ["get"], "/repos/{owner}/{repo}/issues": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["get", "patch"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["get", "patch", "delete"],
    "/repos/{owner}/{repo}/labels": ["get", "post"], "/repos/{owner}/{repo}/labels/{name}": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}/parent": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}/sub_issue": ["delete"],
    "/repos/{owner}/{repo}/issue-types": ["get"], "/orgs/{org}/issue-fields": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}/issue-field-values": ["get", "post", "put"],
    "/repos/{owner}/{repo}/issues/{issue_number}/issue-field-values/{issue_field_id}": ["delete"],
    "/repos/{owner}/{repo}/issues/{issue_number}/labels": ["get", "post", "put", "delete"],
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": ["delete"],
    "/repos/{owner}/{repo}/issues/{issue_number}/assignees": ["post", "delete"],
}
ADDED = "/repositories/{repository_id}"


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def cut(source: dict[str, Any]) -> dict[str, Any]:
    paths = {p: {m: source["paths"][p][m] for m in methods} for p, methods in PATHS.items()}
    get_repo = dict(source["paths"]["/repos/{owner}/{repo}"]["get"])
    paths[ADDED] = {"get": {**get_repo, "operationId": "repos/get-by-id", "parameters": [{
        "name": "repository_id", "in": "path", "required": True, "schema": {"type": "integer"},
        "description": "The repository's numeric id."}],
        "x-unigate-added": "Not in GitHub's description; served by GitHub (the target of its 301 "
                           "'Moved Permanently' answers for renamed repositories). Same answer as repos/get."}}
    components: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    _refs(paths, pending)
    while pending:
        ref = pending.pop()
        _, _, kind, name = ref.split("/", 3)
        if name in components.get(kind, {}):
            continue
        node = source["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        _refs(node, pending)
    info = {**source["info"], "x-unigate-cut": "issue-tracking subset, see SOURCE.md"}
    return {"openapi": source["openapi"], "info": info, "servers": source.get("servers", []),
            "paths": paths, "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())}}


if __name__ == "__main__":
    document = cut(json.loads(Path(sys.argv[1]).read_text()))
    (HERE / "api.github.com.issues.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
