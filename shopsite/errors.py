"""Map backend outages to 503 and shape API errors as the contract says."""

import logging

import pymongo.errors
import redis.exceptions
from cassandra import OperationTimedOut, ReadTimeout, Unavailable, WriteTimeout
from cassandra.cluster import NoHostAvailable
from django.http import Http404
from django_redis.exceptions import ConnectionInterrupted
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from shopsite.api import DomainError

logger = logging.getLogger(__name__)


class BackendUnavailable(Exception):
    """Raised by our own code when a backend cannot serve a request."""

    def __init__(self, backend: str, reason: str = ""):
        super().__init__(f"{backend} unavailable{': ' + reason if reason else ''}")
        self.backend = backend


_BACKEND_EXCEPTIONS: tuple[tuple[type[BaseException], ...], str] = (
    ((pymongo.errors.ConnectionFailure,), "mongodb"),
    (
        (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionInterrupted),
        "redis",
    ),
    ((NoHostAvailable, OperationTimedOut, Unavailable, ReadTimeout, WriteTimeout), "cassandra"),
)


# FerretDB answers while its PostgreSQL is down or restarting, with an InternalError (code 1)
# carrying the driver's message: an outage of the MongoDB service as the app sees it.
_FERRETDB_STORAGE_DOWN = (
    "failed to connect to",
    "connection refused",
    "conn closed",
    "unexpected EOF",
    "terminating connection",
    "the database system is",  # ... starting up / shutting down / in recovery mode
    "connection reset by peer",
    "broken pipe",
)


def _ferretdb_storage_down(exc: BaseException) -> bool:
    if not isinstance(exc, pymongo.errors.OperationFailure) or exc.code != 1:
        return False
    message = str((exc.details or {}).get("errmsg", ""))
    return any(marker in message for marker in _FERRETDB_STORAGE_DOWN)


def backend_of(exc: BaseException) -> str | None:
    """Name of the backend whose outage caused exc, or None if exc is not an outage."""
    if isinstance(exc, BackendUnavailable):
        return exc.backend
    if _ferretdb_storage_down(exc):
        return "mongodb"
    for classes, name in _BACKEND_EXCEPTIONS:
        if isinstance(exc, classes):
            return name
    return None


def unavailable_response(backend: str) -> Response:
    return Response(
        {"detail": f"{backend} unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE
    )


def api_exception_handler(exc, context):
    backend = backend_of(exc)
    if backend:
        logger.warning("%s unavailable: %s", backend, type(exc).__name__)
        response = unavailable_response(backend)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, exceptions.ParseError):
        return Response(
            {"detail": str(exc.detail), "errors": {"body": [str(exc.detail)]}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            {"detail": _validation_summary(exc.detail), "errors": _as_errors(exc.detail)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return exception_handler(exc, context)


def domain_error_response(exc: DomainError) -> Response:
    """The one mapping of a domain error to HTTP, for every app."""
    if exc.errors is not None:
        body = {"detail": _validation_summary(exc.errors), "errors": _as_errors(exc.errors)}
    else:
        body = {"detail": exc.detail, **exc.extra()}
    return Response(body, status=exc.status_code, headers=exc.headers())


def _as_errors(detail):
    if isinstance(detail, dict | list):
        return detail
    return {"non_field_errors": [detail]}


def _first_field(detail) -> str | None:
    if isinstance(detail, dict):
        for key in detail:
            return str(key)
    if isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict) and item:
                inner = _first_field(item)
                return f"[{index}].{inner}" if inner else f"[{index}]"
    return None


def _validation_summary(detail) -> str:
    field = _first_field(detail)
    return f"Invalid input: {field}." if field else "Invalid input."
