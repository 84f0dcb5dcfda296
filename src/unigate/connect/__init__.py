"""The hosted connect page (``/connect/``): an app's end customer connects, checks, maps and
disconnects their tracker in a browser, in a session the app created with ``POST /vault/sessions``.

:mod:`~unigate.connect.sessions` (the session and its token), :mod:`~unigate.connect.router` (the
screens' paths), :mod:`~unigate.connect.pages` (the screens), :mod:`~unigate.connect.web` (cookie,
CSRF, security headers, rendering), :mod:`~unigate.connect.sample` (the field-mapping screen's
sample), :mod:`~unigate.connect.theme` (brand colours, kept legible). See docs/connect-page.md.
"""

from unigate.oauth.flow import GATEWAY_RETURN_PATHS

PREFIX = "/connect/"
# An OAuth authorization started on the page ("Connect with ...") returns to the page: the flow accepts
# the gateway's own pages under this prefix as redirect URIs without the app registering them.
if PREFIX not in GATEWAY_RETURN_PATHS:
    GATEWAY_RETURN_PATHS.append(PREFIX)
