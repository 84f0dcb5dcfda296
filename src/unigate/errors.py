"""Every error the gateway answers with, as a class carrying its Apideck ``type_name`` and status.

Raise one anywhere on the request path; ``GatewayApp`` answers it, the one place where exceptions
become responses (``unigate.envelope.as_unified`` and ``error_response``), in the spec's error
schema (``status_code``, ``error``, ``type_name``, ``message``, ``detail``, ``ref`` and, for
downstream failures, ``downstream_errors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, ClassVar

ERRORS_DOC = "https://developers.apideck.com/errors"


class UnifiedError(Exception):
    """Base class: an error answered to the client in Apideck's error schema."""

    status_code: ClassVar[int] = 500
    type_name: ClassVar[str] = "UnexpectedError"

    def __init__(
        self,
        message: str,
        detail: str | dict[str, Any] | None = None,
        *,
        downstream_errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.downstream_errors = downstream_errors
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status_code": self.status_code,
            "error": HTTPStatus(self.status_code).phrase,
            "type_name": self.type_name,
            "message": self.message,
        }
        if self.detail is not None:
            body["detail"] = self.detail
        body["ref"] = f"{ERRORS_DOC}#{self.type_name.lower()}"
        if self.downstream_errors is not None:
            body["downstream_errors"] = self.downstream_errors
        return body


# -- 400: the request is wrong --------------------------------------------------------------
class RequestValidationError(UnifiedError):
    status_code = 400
    type_name = "RequestValidationError"


class MethodNotAllowedError(RequestValidationError):
    """405: the path exists but the method is none of its operations; ``Allow`` lists those that are."""

    status_code = 405

    def __init__(self, method: str, path: str, allowed: Iterable[str]) -> None:
        allow = ", ".join(allowed)
        super().__init__("Method not allowed", f"{method} is not an operation of {path}; allowed: {allow}",
                         headers={"allow": allow})


class RequestHeadersValidationError(UnifiedError):
    status_code = 400
    type_name = "RequestHeadersValidationError"


class InvalidCursorError(UnifiedError):
    status_code = 400
    type_name = "InvalidCursorError"


class UnsupportedFiltersError(UnifiedError):
    status_code = 400
    type_name = "UnsupportedFiltersError"


class FilterScanLimitError(UnsupportedFiltersError):
    """A filter the engine emulates by scanning (``filter[since]``, a fanned-out ``status``) read more
    records than the list's ``emulation.scan_limit`` allows without filling the page: refused rather
    than answered short. Apideck's type (``UnsupportedFiltersError``); ``detail.reason`` is ``scan_limit``."""


class UnsupportedSortFieldError(UnifiedError):
    status_code = 400
    type_name = "UnsupportedSortFieldError"


class ConnectorExecutionError(UnifiedError):
    """The downstream call failed (its 4xx/5xx, or it could not be reached).

    ``status_code`` is per instance: the downstream status where it maps to a client-facing
    one, 502/504 for network failures.
    """

    type_name = "ConnectorExecutionError"

    def __init__(self, message: str, detail: Any = None, *, status_code: int = 502, **kw: Any) -> None:
        super().__init__(message, detail, **kw)
        self.status_code = status_code  # type: ignore[misc]


# -- 401/402/404: who you are and what you reach --------------------------------------------
class UnauthorizedError(UnifiedError):
    status_code = 401
    type_name = "UnauthorizedError"


class ConnectorCredentialsError(UnifiedError):
    status_code = 401
    type_name = "ConnectorCredentialsError"


class ConnectionNotFoundError(UnifiedError):
    status_code = 404
    type_name = "ConnectionNotFoundError"


class ConnectorNotFoundError(UnifiedError):
    status_code = 404
    type_name = "ConnectorNotFoundError"


class IntegrationNotFoundError(UnifiedError):
    """The connector is installed but the app does not offer it to its consumers
    (``unigate vault app-update --services``)."""

    status_code = 404
    type_name = "IntegrationNotFoundError"


class EntityNotFoundError(UnifiedError):
    status_code = 404
    type_name = "EntityNotFoundError"


# -- 409/422/429: state ----------------------------------------------------------------------
class ConflictError(UnifiedError):
    status_code = 409
    type_name = "ConflictError"


class ConnectionSettingsError(UnifiedError):
    status_code = 422
    type_name = "ConnectionSettingsError"


class ConnectorDisabledError(UnifiedError):
    status_code = 422
    type_name = "ConnectorDisabledError"


class ConnectorRateLimitError(UnifiedError):
    status_code = 429
    type_name = "ConnectorRateLimitError"


# -- 501: the tracker cannot do it -----------------------------------------------------------
class ConnectorOperationUnsupportedError(UnifiedError):
    status_code = 501
    type_name = "ConnectorOperationUnsupportedError"


class UnexpectedError(UnifiedError):
    status_code = 500
    type_name = "UnexpectedError"


# -- OAuth2 authorization (unigate.oauth, /vault/authorize and /vault/callback) --------------
class OAuthCredentialsNotFoundError(UnifiedError):
    """The app has no OAuth client (id and secret) for the connector: `unigate vault oauth-client-set`."""

    status_code = 400
    type_name = "OAuthCredentialsNotFoundError"


class OAuthRedirectUriError(UnifiedError):
    """The ``redirect_uri`` is not one the app registered for the connector (or none was given or registered)."""

    status_code = 400
    type_name = "OAuthRedirectUriError"


class OAuthInvalidStateError(UnifiedError):
    """The ``state`` is missing, tampered with, expired, for another app or service, or already used."""

    status_code = 400
    type_name = "OAuthInvalidStateError"


class OAuthCodeExchangeError(UnifiedError):
    """The provider refused to exchange the authorization code for tokens (or could not be reached)."""

    status_code = 400
    type_name = "OAuthCodeExchangeError"


class OAuthConnectorError(UnifiedError):
    """The connector cannot be authorized: it declares no OAuth2, lacks a setting its URLs need, or the
    provider answered the authorization with an error (the user denied access)."""

    status_code = 400
    type_name = "OAuthConnectorError"
