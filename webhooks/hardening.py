"""What every response of the app carries, whatever blueprint (or none) answered it.

- Security headers: a Content-Security-Policy on HTML (everything from this app, no inline
  script or style, no framing by others), `nosniff`, `X-Frame-Options`, a referrer policy, and
  HSTS when the setting HSTS_SECONDS is above zero and the request came over HTTPS.
- Proxies: with PROXY_FIX = N (the number of proxies in front, e.g. 1 for nginx), the
  X-Forwarded-For/-Proto/-Host/-Port headers of those N hops are trusted (werkzeug's ProxyFix),
  so `request.is_secure` is true behind a TLS proxy and the visitor cookie is sent `Secure`,
  and the rate limiter sees the client's address, not the proxy's. 0 (the default) trusts none:
  without a proxy anyone could send those headers.
- The signed visitor cookie (webhooks.identity) when this request made a new one.
"""
from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .identity import send_visitor_cookie

# Everything a page needs comes from this app: a county intranet or a weak link must not break it.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
# A non-HTML response is never a document to render: nothing may load from it.
CSP_OTHER = "default-src 'none'; frame-ancestors 'none'"


def init_app(app: Flask) -> None:
    hops = _int(app.config.get("PROXY_FIX"))
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    hsts = _int(app.config.get("HSTS_SECONDS"))

    @app.after_request
    def security_headers(response: Response) -> Response:
        send_visitor_cookie(response)
        headers = response.headers
        html = response.mimetype == "text/html"
        headers.setdefault("Content-Security-Policy", CSP if html else CSP_OTHER)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Referrer-Policy", "same-origin")
        if hsts > 0 and request.is_secure:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        return response


def _int(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
