"""UNIGATE_OAUTH_ORIGINS: the operator reaches a manifest's OAuth2 endpoints at another origin (an egress
proxy, a simulator); no connection setting can (the token endpoint receives the app's client secret).
End to end on Jira's manifest: connectors/jira/tests/test_jira_oauth_flow.py."""

from __future__ import annotations

import pytest

from unigate.oauth.flow import at_origin
from unigate.settings import Settings

ORIGINS = {"https://auth.atlassian.com": "http://127.0.0.1:9001"}


def test_the_setting_reads_origin_replacement_pairs() -> None:
    settings = Settings.from_env({"UNIGATE_OAUTH_ORIGINS": "https://auth.atlassian.com=http://127.0.0.1:9001/, "
                                                           "https://linear.app=http://sim:8080"})
    assert settings.oauth_origins == (("https://auth.atlassian.com", "http://127.0.0.1:9001"),
                                      ("https://linear.app", "http://sim:8080"))
    assert Settings.from_env({}).oauth_origins == ()


@pytest.mark.parametrize("value", ["auth.atlassian.com=http://x", "https://auth.atlassian.com", "https://a=ftp://b"])
def test_a_malformed_pair_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="UNIGATE_OAUTH_ORIGINS"):
        Settings.from_env({"UNIGATE_OAUTH_ORIGINS": value})


@pytest.mark.parametrize(("url", "reached"), [
    ("https://auth.atlassian.com/oauth/token", "http://127.0.0.1:9001/oauth/token"),
    ("https://auth.atlassian.com/authorize?x=1", "http://127.0.0.1:9001/authorize?x=1"),
    ("https://auth.atlassian.com.evil.example/oauth/token", "https://auth.atlassian.com.evil.example/oauth/token"),
    ("https://api.atlassian.com/oauth/token/accessible-resources", "https://api.atlassian.com/oauth/token/accessible-resources"),
])
def test_only_a_mapped_origin_is_replaced(url: str, reached: str) -> None:
    assert at_origin(url, ORIGINS) == reached
