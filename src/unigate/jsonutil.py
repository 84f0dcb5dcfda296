"""orjson-backed JSON responses and parsing."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


dumps = orjson.dumps
loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError
