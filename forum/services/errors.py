"""Errors a service raises; the API renders each as Discourse does: ``{"errors": [...], "error_type": ...}``."""
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError


class ServiceError(Exception):
    status_code = 400
    error_type = "invalid_parameters"

    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = list(messages)


class InvalidParameters(ServiceError):
    """The request names something malformed or impossible (Discourse: 400 invalid_parameters)."""


class NotAllowed(ServiceError):
    """The caller may not do this (Discourse: 403 invalid_access)."""

    status_code = 403
    error_type = "invalid_access"


class NotLoggedIn(NotAllowed):
    """Anonymous, where signing in is needed (Discourse: 403 not_logged_in)."""

    error_type = "not_logged_in"

    def __init__(self, *messages: str):
        super().__init__(*(messages or ("You need to be logged in to do that.",)))


class NotFound(ServiceError):
    status_code = 404
    error_type = "not_found"


class ValidationFailed(ServiceError):
    """Well-formed input that breaks a rule, such as a title that is too short (422)."""

    status_code = 422
    error_type = "invalid_record"


class Conflict(ServiceError):
    """The caller acted on a version of a record that has changed since (409): reload and decide again."""

    status_code = 409
    error_type = "conflict"


@contextmanager
def refusing_duplicates(what: str):
    """Two changes saving the same unique name at the same moment: the database's unique constraint decides,
    and the loser hears why instead of getting a server error."""
    try:
        yield
    except IntegrityError:
        raise ValidationFailed(f"{what} was just taken by another change; please try again.") from None
