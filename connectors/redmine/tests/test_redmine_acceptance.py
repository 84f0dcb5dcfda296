"""The connector acceptance suite (unigate.testing.acceptance) against a real Redmine 5.0.

Live when connectors/redmine/tracker/start.sh has run, recording with ``UNIGATE_RECORD_CASSETTES=1``,
replaying ``cassettes/acceptance/`` beside this module otherwise.
"""

from unigate.testing import ConnectorAcceptance


class TestRedmineAcceptance(ConnectorAcceptance):
    service_id = "redmine"
    collection_id = "demo"
