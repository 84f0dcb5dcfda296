"""Request bodies of the Vault API, validated as vault.yml describes them (a 400 says what is wrong).

Read-only properties of ``Connection`` and ``CustomMapping`` are accepted and ignored, as the
unified API does with its read-only fields; properties the gateway does not implement
(``configuration``, consents, data scopes) are refused rather than dropped silently.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unigate.errors import RequestValidationError

MAX_ID = 512


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsumerMetadataIn(BaseModel):
    """``ConsumerMetadata``: four display properties; others are kept as given."""

    model_config = ConfigDict(extra="allow")
    account_name: str | None = None
    user_name: str | None = None
    email: str | None = None
    image: str | None = None


class CreateConsumerIn(_In):
    consumer_id: str = Field(min_length=1, max_length=MAX_ID)
    metadata: ConsumerMetadataIn | None = None


class UpdateConsumerIn(_In):
    metadata: ConsumerMetadataIn | None = None


class CustomMappingIn(_In):
    """``CreateCustomMappingRequest`` / ``UpdateCustomMappingRequest``."""

    value: str = Field(min_length=1)


class ConnectionMappingIn(_In):
    """A ``Connection.custom_mappings`` entry: its target field (``id`` or ``key``) and JSONPath."""

    id: str | None = None
    key: str | None = None
    value: str | None = None
    label: Any = None            # readOnly
    description: Any = None      # readOnly
    required: Any = None         # readOnly
    custom_field: Any = None     # readOnly
    consumer_id: Any = None      # readOnly
    example: Any = None          # readOnly


Scalar = str | int | float | bool | None
READ_ONLY_CONNECTION = (
    "id", "service_id", "name", "tag_line", "unified_api", "state", "integration_state", "auth_type",
    "oauth_grant_type", "status", "website", "icon", "logo", "authorize_url", "revoke_url", "form_fields",
    "configurable_resources", "resource_schema_support", "resource_settings_support", "validation_support",
    "schema_support", "settings_required_for_authorization", "subscriptions", "has_guide", "consents", "health",
    "credentials_expire_at", "last_refresh_failed_at", "last_downstream_error_at", "created_at", "updated_at",
)
UNSUPPORTED_CONNECTION = ("configuration", "consent_state", "latest_consent", "application_data_scopes")


class ConnectionIn(BaseModel):
    """``Connection`` as written: ``enabled``, ``settings`` (the connector's settings and credentials by
    name; null removes one), ``metadata`` and ``custom_mappings``."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    settings: dict[str, Scalar] | None = None
    metadata: dict[str, Any] | None = None
    custom_mappings: list[ConnectionMappingIn] | None = None


T = TypeVar("T", bound=BaseModel)


def parse(model: type[T], data: Any) -> T:
    """``data`` as ``model``, or a 400 ``RequestValidationError`` naming each wrong property."""
    if model is ConnectionIn and isinstance(data, dict):
        data = _connection_fields(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError("Invalid request body", describe(exc)) from None


def _connection_fields(data: dict[str, Any]) -> dict[str, Any]:
    unsupported = [k for k in UNSUPPORTED_CONNECTION if data.get(k) not in (None, [], {})]
    if unsupported:
        raise RequestValidationError("Invalid request body", dict.fromkeys(unsupported, "not supported by this gateway"))
    return {k: v for k, v in data.items() if k not in READ_ONLY_CONNECTION and k not in UNSUPPORTED_CONNECTION}


def describe(exc: ValidationError) -> dict[str, str]:
    detail: dict[str, str] = {}
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "body"
        if error["type"] == "extra_forbidden":
            detail[where] = "unknown property"
        elif error["type"] == "model_type":
            detail[where] = "must be a JSON object"
        else:
            detail[where] = error["msg"].removeprefix("Value error, ")
    return detail
