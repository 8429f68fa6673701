"""A printable A4 poster with a QR code to the assistant, for township offices and notice boards."""
from __future__ import annotations

from functools import lru_cache

import qrcode
import qrcode.image.svg
from flask import Response, abort, current_app, make_response, render_template
from markupsafe import Markup, escape

from knowledge.runtime import THEMES
from bot.i18n import msg

from .common import bp, configured_base_url, identity_lines, public_base_url, snapshot


@lru_cache(maxsize=16)
def qr_svg(url: str) -> str:
    """The QR code of `url` as an SVG document (vector: sharp at any print size)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(url)
    qr.make(fit=True)
    svg = qr.make_image().to_string(encoding="unicode")
    # Size it with CSS, not millimetres, and give screen readers a name.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="二维码：{escape(url)}" class="qr" ', 1)
    for attr in ("width", "height"):
        start = svg.find(f' {attr}="')
        if start != -1:
            end = svg.find('"', start + len(attr) + 3)
            svg = svg[:start] + svg[end + 1:]
    return svg


def _private(response: Response) -> Response:
    # The address may come from the request's (trusted) Host: no shared cache may keep one
    # host's poster for another.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Host")
    return response


@bp.get("/poster")
def poster():
    """A4 poster: QR code to the chat page (PUBLIC_BASE_URL, else a trusted host), themes, hotlines."""
    url = public_base_url()
    configured = bool(configured_base_url())
    themes = [msg(f"theme_{theme}") for theme, _ in THEMES][:8]
    snap = snapshot()
    html = render_template("web/poster.html", url=url, qr=Markup(qr_svg(url)) if url else None, themes=themes,
                           complaint=snap.complaint_hotline, complaint_published=snap.complaint_published,
                           identity=identity_lines(), configured=configured)
    return _private(make_response(html))


@bp.get("/poster/qr.svg")
def poster_qr():
    """The same QR code as a file, for staff who make their own notices (404 without a trusted address)."""
    url = public_base_url()
    if url is None:
        abort(404)
    return _private(Response(qr_svg(url), mimetype="image/svg+xml",
                             headers={"Content-Disposition": 'inline; filename="jiuye-qr.svg"'}))
