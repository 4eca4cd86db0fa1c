"""Errors a service raises; the API renders each as Discourse does: ``{"errors": [...], "error_type": ...}``."""


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
