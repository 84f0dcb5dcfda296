"""Roundup: what connectors/roundup/manifest.yaml and its components cannot say (README "## Connector").

- A new issue needs a title and a new message content: Roundup's REST API would store an untitled
  issue (its web form does not) and an empty message; both are refused before any call.
"""

from __future__ import annotations

from unigate.kit import Connector, OperationContext, RequestValidationError

REQUIRED = {("tickets", "subject"): "an issue needs a title (the tracker's web form requires it; its REST API "
                                    "would store an untitled issue)",
            ("comments", "body"): "a message needs content"}


class RoundupConnector(Connector):
    # calls of the roundup_keywords step (connectors/roundup/components.py)
    code_call_ids = ("tickets_keywords", "tickets_keywords_add")

    def check_request(self, ctx: OperationContext) -> None:
        request = ctx.request
        if request.operation == "add":
            missing = {name: why for (resource, name), why in REQUIRED.items()
                       if resource == request.resource and not (request.body or {}).get(name)}
            if missing:
                raise RequestValidationError("Missing required fields", {
                    name: f"required by {self.spec.name}: {why}" for name, why in missing.items()})
        super().check_request(ctx)
