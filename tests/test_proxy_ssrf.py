"""SSRF: ``/proxy`` reaches the connection's own origin (scheme, host, port as in its base URL) and
nothing else. The connection's tracker is a simulator on ``127.0.0.1:<port>``; a second simulator
(the decoy) listens on another loopback port. Each refused URL is a 400 ``RequestValidationError``
with a logged warning (``unigate.proxy``: the request id, the URL redacted), and neither the
tracker nor the decoy receives anything. Redirects are passed back to the client, never followed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from unigate.testing import Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

AM = {"x-apideck-service-id": "agentsmesh"}
ORG_PATH = f"/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}"

# {port}: the connection's port on 127.0.0.1; {decoy}: another server's port on 127.0.0.1
REFUSED = {
    "other host": "http://evil.example/x",
    "other port on loopback (a live server)": "http://127.0.0.1:{decoy}" + ORG_PATH + "/repositories",
    "default port instead of the connection's": "http://127.0.0.1/x",
    "https instead of http": "https://127.0.0.1:{port}/x",
    "ftp": "ftp://127.0.0.1:{port}/x",
    "file": "file:///etc/passwd",
    "gopher": "gopher://127.0.0.1:{port}/_x",
    "javascript": "javascript:alert(1)",
    "data": "data:text/plain,hi",
    "userinfo": "http://user@127.0.0.1:{port}/x",
    "userinfo with password": "http://user:pw@127.0.0.1:{port}/x",
    "empty userinfo": "http://@127.0.0.1:{port}/x",
    "the origin as userinfo of the decoy": "http://127.0.0.1:{port}@127.0.0.1:{decoy}/x",
    "the origin as userinfo of another host": "http://127.0.0.1:{port}@evil.example/x",
    "localhost (resolves to loopback)": "http://localhost:{port}/x",
    "LOCALHOST": "http://LOCALHOST:{port}/x",
    "localhost.": "http://localhost.:{port}/x",
    "trailing dot": "http://127.0.0.1.:{port}/x",
    "percent-encoded dot": "http://127.0.0.1%2e:{port}/x",
    "percent-encoded host": "http://%31%32%37.0.0.1:{port}/x",
    "IPv4-mapped IPv6": "http://[::ffff:127.0.0.1]:{port}/x",
    "IPv6 loopback": "http://[::1]:{port}/x",
    "decimal IP": "http://2130706433:{port}/x",
    "octal IP": "http://0177.0.0.1:{port}/x",
    "hex IP": "http://0x7f.0.0.1:{port}/x",
    "short IP": "http://127.1:{port}/x",
    "0.0.0.0": "http://0.0.0.0:{port}/x",
    "ideographic full stops (IDNA maps them to dots)": "http://127。0。0。1:{port}/x",
    "fullwidth localhost (IDNA maps it)": "http://ｌｏｃａｌｈｏｓｔ:{port}/x",
    "punycode": "http://xn--localhost-9t3d:{port}/x",
    "protocol-relative to another host": "//evil.example/x",
    "protocol-relative to the origin": "//127.0.0.1:{port}/x",
    "backslashes as slashes": "http:\\\\evil.example\\x",
    "backslash path to another host": "/\\evil.example/x",
    "backslash before userinfo": "http://127.0.0.1:{port}\\@evil.example/",
    "single slash": "http:/evil.example/x",
    "no slashes": "http:evil.example/x",
    "space": "http://evil.example /x",
    "tab before userinfo": "http://127.0.0.1:{port}\t@evil.example/",
    "uppercase scheme, other host": "HTTP://EVIL.EXAMPLE/x",
}

# stay on the origin whatever they look like: relative values are appended to the base URL's path
ON_ORIGIN = {
    "@evil.example/x": ORG_PATH + "/@evil.example/x",
    ":@evil.example": ORG_PATH + "/:@evil.example",
    "/../../../../repositories": "/api/repositories",   # dot segments resolved, still on the origin
    "repositories?next=http://evil.example": ORG_PATH + "/repositories",
    "http://127.0.0.1:{port}" + ORG_PATH + "/repositories": ORG_PATH + "/repositories",
    "HTTP://127.0.0.1:{port}/other": "/other",
}


@pytest.fixture(scope="module")
def decoy() -> Iterator[Simulator]:
    server = Simulator.start(agentsmesh.create_app())
    yield server
    server.stop()


def port(server: Simulator) -> str:
    return server.url.rpartition(":")[2]


def proxied(client: httpx.Client, url: str, *, follow_redirects: bool = False) -> httpx.Response:
    # bytes, so non-ASCII forms go on the wire as the UTF-8 a client would send
    return client.get("/proxy", headers={**AM, "x-apideck-downstream-url": url.encode()},
                      follow_redirects=follow_redirects)


@pytest.mark.parametrize("template", REFUSED.values(), ids=REFUSED.keys())
def test_refused_before_anything_is_sent(client: httpx.Client, sim: Simulator, decoy: Simulator, template: str,
                                         caplog: pytest.LogCaptureFixture) -> None:
    decoy.clear()
    caplog.set_level(logging.WARNING, logger="unigate.proxy")
    url = template.format(port=port(sim), decoy=port(decoy))
    answer = proxied(client, url)
    body = answer.json()
    assert (answer.status_code, body["type_name"], body["message"]) == (400, "RequestValidationError",
                                                                        "Downstream URL not allowed")
    assert body["detail"]["reason"]
    assert "x-apideck-downstream-error" not in answer.headers
    assert sim.requests() == []
    assert decoy.requests() == []
    request_id = answer.headers["request-id"]
    [record] = [r for r in caplog.records if r.name == "unigate.proxy" and request_id in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "refused" in record.getMessage()


@pytest.mark.parametrize(("template", "path"), ON_ORIGIN.items(), ids=ON_ORIGIN.keys())
def test_odd_but_same_origin_values_stay_on_the_origin(client: httpx.Client, sim: Simulator, decoy: Simulator,
                                                       template: str, path: str) -> None:
    decoy.clear()
    proxied(client, template.format(port=port(sim)))
    [seen] = sim.requests()
    assert seen["path"] == path
    assert seen["headers"]["host"] == f"127.0.0.1:{port(sim)}"
    assert decoy.requests() == []


def test_a_refused_url_is_logged_redacted(client: httpx.Client, sim: Simulator,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="unigate.proxy")
    key = agentsmesh.DEFAULT_API_KEY
    answer = proxied(client, f"http://user:{key}@evil.example/x?token=tokvalue-zq&q={key}")
    assert answer.status_code == 400
    assert key not in answer.text
    [record] = [r for r in caplog.records if answer.headers["request-id"] in r.getMessage()]
    assert key not in record.getMessage()
    assert "[REDACTED]" in record.getMessage()
    assert "tokvalue-zq" not in record.getMessage()  # a parameter named like a credential


def test_a_refused_url_cannot_forge_log_lines(client: httpx.Client, sim: Simulator,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="unigate.proxy")
    answer = proxied(client, "http://evil.example/\u2028forged")
    assert answer.status_code == 400
    [record] = [r for r in caplog.records if answer.headers["request-id"] in r.getMessage()]
    assert "\u2028" not in record.getMessage() and "\n" not in record.getMessage()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("where", ["decoy", "other host", "same origin"])
def test_redirects_are_passed_back_never_followed(client: httpx.Client, sim: Simulator, decoy: Simulator,
                                                  status: int, where: str) -> None:
    decoy.clear()
    location = {"decoy": f"{decoy.url}{ORG_PATH}/repositories", "other host": "http://evil.example/steal",
                "same origin": f"{ORG_PATH}/repositories"}[where]
    sim.fault(status=status, location=location, body={"moved": True}, times=1)
    answer = proxied(client, "/repositories", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"], answer.json()) == (status, location, {"moved": True})
    assert "x-apideck-downstream-error" not in answer.headers
    assert len(sim.requests()) == 1
    assert decoy.requests() == []
