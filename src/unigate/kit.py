"""The connector kit: everything a connector plugin may import from unigate, on one page.

A plugin imports from here (and, in its tests, from :mod:`unigate.testing`); every other module
of the gateway is internal and may change in any release. Built-in connectors follow the same
rule (``tests/test_kit_surface.py`` checks it), so what they do any third-party plugin can do.

- **Registering**: :data:`hookimpl` on ``unigate_connectors()`` (returning
  :class:`ConnectorDefinition`, with an optional :class:`SandboxProfile` for a simulator and
  :class:`LiveProfile` for a real server) and on the ``register_*`` component hooks;
  :func:`packaged_mapping` finds a manifest shipped as package data; :func:`manifest_variant` serves
  one manifest as several connectors (another service id, name and a few replaced values).
- **Quirks**: subclass :class:`Connector` and declare an operation's own implementation with
  :func:`implements` (``@implements("tickets.update")``) only where it is genuinely procedural,
  otherwise register a named component (:data:`COMPONENTS` kinds:
  transform, preparer, paginator, request, auth; a :class:`Components` registry raising
  :class:`ComponentError`) the manifest refers to.
- **Component signatures**: :class:`TransformFactory` (returns a :class:`Transform`; a writer raises
  :class:`TransformError` on a value it cannot convert),
  :class:`Preparer`, :class:`Paginator` (gets a :class:`PageRequest`, returns a :class:`Window`),
  :class:`RequestBuilder` (gets a :class:`DownstreamCall`), :class:`AuthScheme` (gets the
  :class:`AuthRequest` about to be sent, the connection's credentials and the manifest's
  ``http.auth.options``; sets headers or query parameters on it); :func:`read_datetime` and
  :func:`datetime_writer` for timestamp transforms.
- **Label conventions** (trackers with open/closed and labels): :class:`LabelConventions` and
  :func:`label_names` for a preparer; :func:`page_start`, :func:`status_label_filter` and
  :func:`is_dropped` for a page-number paginator (the built-in ``label_*`` transforms use the same).
- **Inside an operation**: :class:`OperationContext` (``ctx.call`` and the author's tools; the
  client's :class:`UnifiedRequest` as ``ctx.request``), :class:`OperationResult`, :class:`CursorPosition`.
- **Errors**: raise these; the gateway turns each into Apideck's error response (all are
  :class:`UnifiedError`): :class:`EntityNotFoundError` (404), :class:`RequestValidationError` (400),
  :class:`ConflictError` (409), :class:`UnsupportedFiltersError`, :class:`UnsupportedSortFieldError`,
  :class:`ConnectorOperationUnsupportedError` (501), :class:`ConnectorExecutionError` (the tracker
  failed), :class:`UnexpectedError` (500: a bug, with what was already written).
- **Vendor formats**: :func:`adf_to_html` / :func:`html_to_adf` (Atlassian Document Format),
  :func:`build_jql` with :class:`JqlClause` and :func:`jql_datetime` (JQL, every value escaped;
  :class:`JqlError`).
- **Simulators**: :class:`SimulatorControl` gives a simulator Apideck-shaped fault injection;
  :class:`BackgroundServer` serves one on loopback (its own tests); :class:`OAuthServer` is an OAuth2
  authorization server (codes, PKCE, rotating refresh tokens) a simulator serves beside its API.
"""

from __future__ import annotations

from unigate.components import COMPONENTS, ComponentError, Components
from unigate.connector import Connector, OperationContext, OperationResult, UnifiedRequest, implements
from unigate.connector.labels import LabelConventions, is_dropped, label_names, page_start, status_label_filter
from unigate.connector.paginator import PageRequest, Paginator, Window
from unigate.connector.prepare import Preparer
from unigate.connector.requests import DownstreamCall, RequestBuilder
from unigate.cursor import CursorPosition
from unigate.downstream.auth import AuthRequest, AuthScheme
from unigate.errors import (
    ConflictError,
    ConnectorExecutionError,
    ConnectorOperationUnsupportedError,
    EntityNotFoundError,
    RequestValidationError,
    UnexpectedError,
    UnifiedError,
    UnsupportedFiltersError,
    UnsupportedSortFieldError,
)
from unigate.mapping.adf import adf_to_html, html_to_adf
from unigate.mapping.jql import Clause as JqlClause
from unigate.mapping.jql import JqlError, build_jql, jql_datetime
from unigate.mapping.transforms import Transform, TransformError, TransformFactory, datetime_writer, read_datetime
from unigate.plugins import ConnectorDefinition, LiveProfile, SandboxProfile, hookimpl, manifest_variant, packaged_mapping
from unigate.simulation import BackgroundServer, SimulatorControl
from unigate.simulation.oauth_server import OAuthServer

__all__ = [
    "COMPONENTS",
    "AuthRequest",
    "AuthScheme",
    "BackgroundServer",
    "ComponentError",
    "Components",
    "ConflictError",
    "Connector",
    "ConnectorDefinition",
    "ConnectorExecutionError",
    "ConnectorOperationUnsupportedError",
    "CursorPosition",
    "DownstreamCall",
    "EntityNotFoundError",
    "JqlClause",
    "JqlError",
    "LabelConventions",
    "LiveProfile",
    "OAuthServer",
    "OperationContext",
    "OperationResult",
    "PageRequest",
    "Paginator",
    "Preparer",
    "RequestBuilder",
    "RequestValidationError",
    "SandboxProfile",
    "SimulatorControl",
    "Transform",
    "TransformError",
    "TransformFactory",
    "UnexpectedError",
    "UnifiedError",
    "UnifiedRequest",
    "UnsupportedFiltersError",
    "UnsupportedSortFieldError",
    "Window",
    "adf_to_html",
    "build_jql",
    "datetime_writer",
    "hookimpl",
    "html_to_adf",
    "implements",
    "is_dropped",
    "jql_datetime",
    "label_names",
    "manifest_variant",
    "packaged_mapping",
    "page_start",
    "read_datetime",
    "status_label_filter",
]
