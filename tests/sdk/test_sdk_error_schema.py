"""Regression: a 402 error's ``detail`` is a string, as the spec's PaymentRequiredResponse says.

A tracker's 402 is relayed as a 402 ConnectorExecutionError whose detail (call id, URL, status,
body) is an object; the SDK parsed that as ResponseValidationError instead of raising
PaymentRequiredResponse. ``envelope.error_response`` now sends such a detail as its JSON text;
other statuses keep their object detail (their schemas allow one).
"""

from __future__ import annotations

import orjson
from apideck_unify import models

from unigate.envelope import error_response
from unigate.errors import ConnectorExecutionError, EntityNotFoundError, UnifiedError

DETAIL = {"call_id": "tickets_all", "downstream_status": 402, "downstream_body": {"error": "Subscription expired"}}


def rendered(error: UnifiedError) -> dict:
    return orjson.loads(error_response(error, "req-1").body)


def test_402_detail_object_is_sent_as_its_json_text() -> None:
    body = rendered(ConnectorExecutionError("acme answered 402", DETAIL, status_code=402))
    assert isinstance(body["detail"], str) and orjson.loads(body["detail"]) == DETAIL
    assert models.PaymentRequiredResponseData.model_validate(body).detail == body["detail"]


def test_402_string_or_absent_detail_is_unchanged() -> None:
    assert rendered(ConnectorExecutionError("x", "plain words", status_code=402))["detail"] == "plain words"
    assert "detail" not in rendered(ConnectorExecutionError("x", status_code=402))


def test_other_statuses_keep_an_object_detail() -> None:
    assert rendered(ConnectorExecutionError("x", DETAIL, status_code=404))["detail"] == DETAIL
    assert rendered(EntityNotFoundError("x", {"id": "1"}))["detail"] == {"id": "1"}
