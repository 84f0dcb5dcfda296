"""What an operator sees: the request log (``requestlog``, ``GET /vault/logs``, ``unigate logs``),
log lines with request ids and JSON format (``logs``), Prometheus metrics (``metrics``) and
optional OpenTelemetry spans (``tracing``)."""
