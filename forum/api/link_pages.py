"""The pages a mailed link opens (a password reset, a new address, an activation, an unsubscribe): a form that posts
back to the link."""
from collections.abc import Callable
from typing import TypeVar

from flask import Response, current_app, render_template, request

from forum.api.auth import csrf_token
from forum.services.errors import ServiceError

Subject = TypeVar("Subject")

# A page loads nothing, runs nothing and posts only to itself; the token in its address goes to no other site.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def link_page(template: str, subject: object | None, *, status: int = 200, **context) -> Response:
    """``template`` (which extends link_page.html) with the session's CSRF token for its form (a browser's form sends
    it as Rails' authenticity_token field). The frame shows the form while the link has a ``subject`` (link_view's: what
    the link is for), and only the error once it has none."""
    page = render_template(template, csrf=csrf_token(), site_title=current_app.config["SITE_TITLE"],
                           link_works=subject is not None, **context)
    return Response(page, status=status, headers=HEADERS, content_type="text/html; charset=utf-8")


def link_view(check: Callable[[], Subject], act: Callable[[], object], page: Callable[..., Response]) -> Response:
    """A mailed link's page: ``check`` finds what the link is for (a dead link raises), a GET shows it, a POST acts.
    ``page(subject, done=False, error=None)`` renders each outcome; a refusal shows with its status."""
    try:
        subject = check()
    except ServiceError as failure:
        return page(None, error=failure)
    if request.method == "GET":
        return page(subject)
    try:
        act()
    except ServiceError as failure:
        return page(subject, error=failure)
    return page(subject, done=True)


def page_args(error: ServiceError | None) -> dict:
    """The status and message of a link page showing ``error``."""
    return {"status": error.status_code if error else 200, "error": error and " ".join(error.messages)}
