"""A minimal tracker and its manifest, for rate-limit tests and ``bench/rate_limit.py``: issues read
one by one, listed and created, behind a simulated budget (``unigate.simulation.budgets``).

Its manifest (``MANIFEST``, service ``budgeted``) declares the budget the way GitHub's does:
``x-ratelimit-*`` quota headers, refusals other than 429 (403 naming "secondary rate limit") that
are rate limits, and ``default_wait`` (``DEFAULT_WAIT`` seconds) for a refusal that says no wait.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.simulation.budgets import Policy, RateLimited
from unigate.simulation.control import SimulatorControl

SERVICE_ID = "budgeted"
TOKEN = "budget-token-1"
ISSUES = 20
DEFAULT_WAIT = 1
TICKETS = "/issue-tracking/collections/main/tickets"
QUOTA = {"limit": "x-ratelimit-limit", "remaining": "x-ratelimit-remaining", "reset": "x-ratelimit-reset"}


def manifest(default_wait: int = DEFAULT_WAIT) -> dict[str, Any]:
    return {
        "service_id": SERVICE_ID,
        "name": "Budgeted",
        "connection": {"settings": {"base_url": {"required": True}}, "credentials": {"token": {"required": True}}},
        "http": {"base_url": "{settings.base_url}", "headers": {"Authorization": "Bearer {credentials.token}"},
                 "errors": {"message": "$.message"}, "rate_limit_headers": QUOTA,
                 "rate_limit": {**QUOTA, "statuses": [403], "message": "secondary rate limit",
                                "default_wait": default_wait}},
        "resources": {"tickets": {
            "fields": {"id": "$.id", "subject": "$.title"},
            "operations": {
                "all": {"path": "/issues", "records": "$.items"},
                "one": {"path": "/issues/{ticket_id}", "record": "$.issue"},
                "add": {"method": "POST", "path": "/issues", "id": "$.id"},
            },
        }},
    }


def budget_tracker(policy: Policy) -> SimulatorControl:
    """The tracker behind ``policy``, in a ``SimulatorControl`` (request log, faults)."""
    issues = {str(i): {"id": str(i), "title": f"Issue {i}"} for i in range(1, ISSUES + 1)}

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    async def one(request: Request) -> JSONResponse:
        found = issues.get(request.path_params["id"])
        if not authorized(request) or found is None:
            return JSONResponse({"message": "Not Found"}, status_code=404 if authorized(request) else 401)
        return JSONResponse({"issue": found})

    async def listed(request: Request) -> JSONResponse:
        return JSONResponse({"items": list(issues.values())} if authorized(request) else {"message": "no"},
                            status_code=200 if authorized(request) else 401)

    async def create(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        issue_id = str(len(issues) + 1)
        issues[issue_id] = {"id": issue_id, "title": orjson.loads(await request.body()).get("title")}
        return JSONResponse(issues[issue_id], status_code=201)

    app = Starlette(routes=[Route("/issues", listed), Route("/issues", create, methods=["POST"]),
                            Route("/issues/{id}", one)])
    return SimulatorControl(RateLimited(app, policy))
