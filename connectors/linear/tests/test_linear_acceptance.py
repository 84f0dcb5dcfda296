"""The connector acceptance suite (unigate.testing.acceptance) against the Linear simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from unigate.testing import ConnectorAcceptance


class TestLinearAcceptance(ConnectorAcceptance):
    ticket: ClassVar[dict[str, Any]] = {"subject": "Acceptance ticket",
                                         "description": "<p>Made by the unigate connector acceptance suite</p>"}
    comment = "<p>Acceptance comment</p>"   # Linear's Markdown reads as HTML (Apideck: "the HTML version if supported")
    edited_comment = "<p>Acceptance comment, edited</p>"
    service_id = "linear"
