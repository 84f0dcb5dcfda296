"""Calls to the trackers: one pooled HTTP client per service, credentials injected per
connection, typed errors, raw capture for ``raw=true`` with secrets redacted."""

from unigate.downstream.client import DownstreamResponse, DownstreamSession
from unigate.downstream.pool import ClientPool

__all__ = ["ClientPool", "DownstreamResponse", "DownstreamSession"]
