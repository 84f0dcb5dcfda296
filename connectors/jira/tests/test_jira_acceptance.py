"""The connector acceptance suite (unigate.testing.acceptance) against the Jira simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from unigate.testing import ConnectorAcceptance

# Rich text is HTML on read (Apideck: "the HTML version if supported"; Jira stores ADF): a plain text
# written reads back as one paragraph. The suite's comment body is plain text and not settable.
HTML_BODIES = {"test_comments_round_trip": "a comment body written as plain text reads back as HTML "
                                           "(<p>Acceptance comment</p>): bodies are HTML on read, by design"}


class TestJiraAcceptance(ConnectorAcceptance):
    ticket: ClassVar[dict[str, Any]] = {"subject": "Acceptance ticket",
                                         "description": "<p>Made by the unigate connector acceptance suite</p>"}
    known_failures = HTML_BODIES
    service_id = "jira"
