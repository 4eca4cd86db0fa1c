"""The page a mail's unsubscribe link opens (/email/unsubscribe/{key}, Discourse's path)."""
from flask import Blueprint, Response

from forum.api.auth import csrf_exempt
from forum.api.link_pages import link_page, link_view, page_args
from forum.services import unsubscribes
from forum.services.errors import ServiceError

bp = Blueprint("unsubscribes", __name__)


@bp.route("/email/unsubscribe/<key>", methods=["GET", "POST"])
@csrf_exempt  # the signed key names whose mail stops; mail providers post RFC 8058's one-click unsubscribe here
def unsubscribe_page(key: str):
    """Opening it shows whose mail stops; its button (or a mail provider's one-click POST) stops it."""
    return link_view(lambda: unsubscribes.unsubscription_of(key), lambda: unsubscribes.unsubscribe(key), _page)


def _page(unsubscription: unsubscribes.Unsubscription | None, *, done: bool = False,
          error: ServiceError | None = None) -> Response:
    return link_page("unsubscribe.html", unsubscription, user=unsubscription and unsubscription.user,
                     mail=unsubscription and unsubscription.kind.description, done=done, **page_args(error))
