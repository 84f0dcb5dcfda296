"""An app's OAuth client for a connector: set over HTTP or with `unigate vault oauth-client`, stored
encrypted, never shown back (the audit trail records that it changed, not what it is)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from unigate.app import open_store
from unigate.cli import main
from unigate.settings import Settings
from unigate.testing import GatewayHarness
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.models import OAuthFlow

from .conftest import CLIENT, CLIENT_ID, CLIENT_SECRET, error

CONNECTOR_DIR = Path(__file__).parent / "connector"


def test_the_client_secret_is_never_answered(vault: httpx.Client) -> None:
    response = vault.get(CLIENT)
    data = response.json()["data"]
    assert (data["client_id"], data["client_secret"]) == (CLIENT_ID, "set")
    assert CLIENT_SECRET not in response.text


def test_a_new_client_without_a_secret_is_refused(harness: GatewayHarness) -> None:
    _, key = harness.store.create_app("Other app", app_id="other-app")
    other = {"authorization": f"Bearer {key}", "x-apideck-app-id": "other-app"}
    with httpx.Client(base_url=harness.server.url, headers=other) as client:
        error(client.patch(CLIENT, json={"client_id": "x", "redirect_uris": ["https://a.example/cb"]}),
              400, "RequestValidationError")
        assert client.get(CLIENT).status_code == 404


def test_changing_the_client_is_audited_without_its_secret(vault: httpx.Client) -> None:
    assert vault.patch(CLIENT, json={"client_secret": CLIENT_SECRET}).status_code == 200
    [record] = [r for r in vault.get("/vault/audit").json()["data"] if r["action"] == "oauth_client.set"][:1]
    assert record["changes"]["client_secret"] == {"to": "[secret]"}
    assert CLIENT_SECRET not in str(record)


def test_the_cli_sets_the_client_from_the_environment_and_never_prints_the_secret(tmp_path: Path) -> None:
    env = {"UNIGATE_DATABASE": str(tmp_path / "vault.db"), "UNIGATE_SECRET_KEY": generate_secret_key(),
           "UNIGATE_CONNECTORS_DIR": str(CONNECTOR_DIR), "APP_CLIENT_SECRET": "cs_from_env_5c1e"}
    runner = CliRunner()
    assert runner.invoke(main, ["vault", "app-create", "Acme", "--app-id", "acme"], env=env).exit_code == 0
    result = runner.invoke(main, ["vault", "oauth-client", "set", "acme", "oauthtracker", "--client-id", "cid",
                                  "--client-secret", "env:APP_CLIENT_SECRET",
                                  "--redirect-uri", "https://acme.example/connected"], env=env)
    assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["vault", "oauth-client", "show", "acme", "oauthtracker"], env=env)
    assert '"client_id": "cid"' in shown.output and "cs_from_env_5c1e" not in result.output + shown.output
    store = open_store(Settings(database=tmp_path / "vault.db"), env["UNIGATE_SECRET_KEY"])
    client = store.oauth_client("acme", "oauthtracker")
    assert client is not None and client.client_secret == "cs_from_env_5c1e"
    assert all(b"cs_from_env_5c1e" not in f.read_bytes() for f in tmp_path.glob("vault.db*"))
    store.close()


def test_the_cli_refuses_a_connector_without_oauth2(tmp_path: Path) -> None:
    env = {"UNIGATE_DATABASE": str(tmp_path / "vault.db"), "UNIGATE_SECRET_KEY": generate_secret_key()}
    result = CliRunner().invoke(main, ["vault", "oauth-client", "set", "acme", "agentsmesh", "--client-id", "x"],
                                env=env)
    assert result.exit_code != 0 and "declaring `oauth2`" in result.output


def test_rotating_the_vault_key_reseals_client_secrets_and_authorizations_under_way(tmp_path: Path) -> None:
    key, new_key = generate_secret_key(), generate_secret_key()
    store = open_store(Settings(database=tmp_path / "vault.db"), key)
    store.create_app("Acme", app_id="acme")
    store.set_oauth_client("acme", "oauthtracker", "cid", "cs_rotate_91", redirect_uris=["https://a.example/cb"])
    store.add_oauth_flow(OAuthFlow("f1", "acme", "c1", "oauthtracker", "https://a.example/cb",
                                   "https://gw.example/vault/callback", "verifier_91", time.time() + 600))
    store.rotate_key(SecretBox(new_key))
    store.close()
    reopened = open_store(Settings(database=tmp_path / "vault.db"), new_key)
    client = reopened.oauth_client("acme", "oauthtracker")
    flow = reopened.take_oauth_flow("f1")
    assert client is not None and client.client_secret == "cs_rotate_91"
    assert flow is not None and flow.verifier == "verifier_91"
    reopened.close()
