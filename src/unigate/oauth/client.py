"""The provider's token endpoint (RFC 6749 §4.1.3 and §6) and the post-token calls of a manifest.

Every call is made with the secrets it carries (client secret, code, PKCE verifier, refresh token)
registered as the active log redactor, and every error message is redacted with them too: no secret
reaches a log line or an error body. Answers are read as JSON, or as a form (GitHub without
``Accept: application/json``); an ``error`` field is a refusal whatever the status (GitHub answers 200).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import orjson

from unigate.downstream.logfilter import active as active_redactor
from unigate.downstream.redact import Redactor
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import OAuth2Spec
from unigate.vault.models import OAuthClient

TIMEOUT = 15.0


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: float | None   # epoch seconds; None: the token does not expire
    token_type: str = "bearer"

    def credentials(self) -> dict[str, Any]:
        """The connection's credentials: the tokens and when the access token expires."""
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "expires_at": self.expires_at, "token_type": self.token_type}


class TokenEndpointError(Exception):
    """The token endpoint refused (``refused``: a 4xx or an ``error`` answer) or could not be reached."""

    def __init__(self, message: str, *, refused: bool, error: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.refused = refused
        self.error = error


@contextmanager
def redacting(*secrets: str | None) -> Iterator[Redactor]:
    """Log records written meanwhile (httpx's, ours) have these values replaced."""
    redactor = Redactor([s for s in secrets if s])
    token = active_redactor.set(redactor)
    try:
        yield redactor
    finally:
        active_redactor.reset(token)


class TokenClient:
    def __init__(self, *, timeout: float = TIMEOUT, clock: Any = time.time,
                 wrap_transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None) -> None:
        self.timeout = timeout
        self.clock = clock
        self.wrap_transport = wrap_transport   # tests: the provider's public host answered by a local server

    def _http(self) -> httpx.AsyncClient:
        transport = self.wrap_transport(httpx.AsyncHTTPTransport()) if self.wrap_transport else None
        return httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, transport=transport)

    async def exchange(self, spec: OAuth2Spec, client: OAuthClient, token_url: str, code: str, callback_uri: str,
                       verifier: str | None) -> Tokens:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_uri}
        if verifier is not None:
            form["code_verifier"] = verifier
        with redacting(client.client_secret, code, verifier) as redactor:
            return self._tokens(spec, await self._post(spec, client, token_url, form, redactor), None)

    async def refresh(self, spec: OAuth2Spec, client: OAuthClient, token_url: str, refresh_token: str) -> Tokens:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        with redacting(client.client_secret, refresh_token) as redactor:
            return self._tokens(spec, await self._post(spec, client, token_url, form, redactor), refresh_token)

    async def _post(self, spec: OAuth2Spec, client: OAuthClient, url: str, form: dict[str, str],
                    redactor: Redactor) -> dict[str, Any]:
        headers = {"accept": "application/json"}
        form = {**spec.token_params, **form}
        if spec.client_auth == "basic":   # RFC 6749 §2.3.1: each part form-urlencoded first
            pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=client.client_id, client_secret=client.client_secret)
        try:
            async with self._http() as http:
                response = await http.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise TokenEndpointError(redactor.text(f"the token endpoint {url} could not be reached: "
                                                   f"{type(exc).__name__}"), refused=False) from None
        return _checked(response, redactor)

    def _tokens(self, spec: OAuth2Spec, body: dict[str, Any], previous_refresh: str | None) -> Tokens:
        lifetime = body.get("expires_in", spec.default_expires_in)
        try:
            expires_at = None if lifetime in (None, "") else self.clock() + float(lifetime)
        except (TypeError, ValueError):
            expires_at = None
        refresh = body.get("refresh_token") or previous_refresh   # RFC 6749 §6: may keep the old one
        return Tokens(body["access_token"], refresh, expires_at, str(body.get("token_type") or "bearer"))

    async def post_token(self, spec: OAuth2Spec, urls: list[str], access_token: str) -> dict[str, Any]:
        """Settings read from the manifest's post-token calls (``urls``: their rendered URLs)."""
        settings: dict[str, Any] = {}
        with redacting(access_token) as redactor:
            async with self._http() as http:
                for step, url in zip(spec.post_token, urls, strict=True):
                    try:
                        response = await http.request(step.method, url, headers={
                            "accept": "application/json", **placement_headers(spec, access_token)},
                            params=placement_query(spec, access_token))
                    except httpx.HTTPError as exc:
                        raise TokenEndpointError(redactor.text(f"{url} could not be reached: {type(exc).__name__}"),
                                                 refused=False) from None
                    if response.status_code >= 400:
                        raise TokenEndpointError(f"{url} answered {response.status_code}", refused=True)
                    settings.update(_extract(step.settings, _body(response)))
        return settings


def placement_headers(spec: OAuth2Spec, access_token: str) -> dict[str, str]:
    """The header carrying the access token (none when the manifest places it in the query)."""
    if spec.placement.query:
        return {}
    return {spec.placement.header: spec.placement.format.replace("{access_token}", access_token)}


def placement_query(spec: OAuth2Spec, access_token: str) -> dict[str, str]:
    return {spec.placement.query: access_token} if spec.placement.query else {}


def _checked(response: httpx.Response, redactor: Redactor) -> dict[str, Any]:
    """The token endpoint's answer if it holds an access token; else why not (RFC 6749 §5.2), redacted."""
    answer = _body(response)
    body: dict[str, Any] = answer if isinstance(answer, dict) else {}
    error = body.get("error")
    status = response.status_code
    if status >= 500 or (status >= 300 and not error):
        raise TokenEndpointError(f"the token endpoint answered {status}", refused=False)
    if error or status >= 400 or not isinstance(body.get("access_token"), str):
        described = body.get("error_description")
        message = f"the token endpoint refused: {error or status}" + (f" ({described})" if described else "")
        raise TokenEndpointError(redactor.text(message[:1000]), refused=True, error=str(error) if error else None)
    return body


def _extract(paths: dict[str, str], body: Any) -> dict[str, Any]:
    out = {}
    for name, path in paths.items():
        value = compile_path(path).get(body) if body is not None else MISSING
        if isinstance(value, list) and not compile_path(path).is_simple:
            value = value[0] if value else MISSING
        if value is not MISSING and value is not None:
            out[name] = value
    return out


def _body(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return dict(parse_qsl(response.text)) if "=" in response.text else {}
