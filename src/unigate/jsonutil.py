"""orjson-backed JSON responses and parsing."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        # keys are strings but for rare data (an error detail keyed by number): OPT_NON_STR_KEYS costs
        # ~50 % more on a page of records, so it is only asked for when a plain encode refuses a key
        try:
            return orjson.dumps(content)
        except TypeError:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


dumps = orjson.dumps
loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError
