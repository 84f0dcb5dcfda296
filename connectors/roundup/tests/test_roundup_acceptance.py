"""The connector acceptance suite (unigate.testing.acceptance) against a real Roundup 2.

Live when connectors/roundup/tracker/start.sh has run, recording with ``UNIGATE_RECORD_CASSETTES=1``,
replaying ``cassettes/acceptance/`` beside this module otherwise.
"""

from typing import Any, ClassVar

from unigate.testing import ConnectorAcceptance


class TestRoundupAcceptance(ConnectorAcceptance):
    service_id = "roundup"
    tag_seed: ClassVar[dict[str, Any]] = {"tags": [{"name": "acceptance"}]}   # a keyword named on a ticket is created
