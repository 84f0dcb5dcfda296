"""A pytest plugin that breaks the gateway: every request to it answers 500 in the error schema.

``tests/test_replay_runs_the_gateway.py`` runs the replayed tests with it (``-p sabotage_gateway``)
to show that those tests exercise the gateway and not only their cassettes.
"""

from __future__ import annotations

from typing import Any

from unigate.app import GatewayApp
from unigate.envelope import error_response
from unigate.errors import UnexpectedError


async def _answer_500(self: GatewayApp, scope: Any, receive: Any, method: str, request_id: str) -> Any:
    return error_response(UnexpectedError("Sabotaged", "this gateway answers 500 to everything"), request_id)


GatewayApp._respond = _answer_500  # type: ignore[method-assign]
