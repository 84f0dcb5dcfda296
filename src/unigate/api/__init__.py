"""The unified HTTP API: routes, request parsing and validation, auth -> connection."""
