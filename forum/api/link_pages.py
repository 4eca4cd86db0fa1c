"""The pages a mailed link opens (a password reset, a new address to confirm): a form that posts back to the link."""
from flask import Response, current_app, render_template

from forum.api.auth import csrf_token

# A page loads nothing, runs nothing and posts only to itself; the token in its address goes to no other site.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def link_page(template: str, *, status: int = 200, **context) -> Response:
    """``template`` (which extends link_page.html) with the session's CSRF token for its form (a browser's form sends
    it as Rails' authenticity_token field)."""
    page = render_template(template, csrf=csrf_token(), site_title=current_app.config["SITE_TITLE"], **context)
    return Response(page, status=status, headers=HEADERS, content_type="text/html; charset=utf-8")
