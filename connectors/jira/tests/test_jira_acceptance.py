"""The connector acceptance suite (unigate.testing.acceptance) against the Jira simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from unigate.testing import ConnectorAcceptance


class TestJiraAcceptance(ConnectorAcceptance):
    ticket: ClassVar[dict[str, Any]] = {"subject": "Acceptance ticket",
                                         "description": "<p>Made by the unigate connector acceptance suite</p>"}
    comment = "<p>Acceptance comment</p>"   # rich text: HTML on read (Apideck: "the HTML version if supported")
    edited_comment = "<p>Acceptance comment, edited</p>"
    service_id = "jira"
