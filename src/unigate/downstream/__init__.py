"""Calls to the trackers: one pooled HTTP client per service, credentials injected per
connection, typed errors, raw capture for ``raw=true`` with secrets redacted."""

from unigate.downstream.client import ClientPool, DownstreamResponse, DownstreamSession

__all__ = ["ClientPool", "DownstreamResponse", "DownstreamSession"]
