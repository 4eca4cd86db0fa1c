"""Every error leaves as Discourse's JSON: ``{"errors": [...], "error_type": "..."}``, never an HTML page."""
import math
import time

from flask import Flask
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from forum.extensions import limiter
from forum.services.errors import ServiceError

# Discourse's error_type for the HTTP errors the framework itself raises.
_ERROR_TYPES = {
    400: "invalid_parameters",
    403: "invalid_access",
    404: "not_found",
    405: "invalid_parameters",
    413: "invalid_parameters",
}


def error_response(messages: list[str], error_type: str, status: int):
    return {"errors": messages, "error_type": error_type}, status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        return error_response(error.messages, error.error_type, error.status_code)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded):
        current = limiter.current_limit
        wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
        body = {
            "errors": [f"You've performed this action too many times. Please wait {wait} seconds before trying again."],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
        }
        return body, 429, {"Retry-After": str(wait)}

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        return error_response([error.description], _ERROR_TYPES.get(status, "server_error"), status)

    @app.errorhandler(Exception)
    def _unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        return error_response(["Something went wrong on our side."], "server_error", 500)
