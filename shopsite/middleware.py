"""Turn a backend outage in any view (pages included) into a 503 naming the backend."""

import logging
import sys

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from .errors import backend_of

logger = logging.getLogger(__name__)


def outage_response(request, exc):
    """A 503 naming the backend whose outage caused exc, or None for any other exception."""
    backend = backend_of(exc)
    if backend is None:
        return None
    logger.warning("%s unavailable on %s: %s", backend, request.path, type(exc).__name__)
    if "text/html" in request.headers.get("Accept", ""):
        # Rendered without the request: its context processors would touch the session store,
        # which may be the backend that is down.
        html = render_to_string("503.html", {"backend": backend})
        response = HttpResponse(html, status=503)
    else:
        response = JsonResponse({"detail": f"{backend} unavailable"}, status=503)
    response["Retry-After"] = "5"
    return response


class BackendUnavailableMiddleware:
    """Outages raised in views; those raised in other middleware reach handler500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        return outage_response(request, exc)


def server_error(request):
    """handler500: an outage raised outside a view (e.g. in middleware) is a 503, not a 500."""
    response = outage_response(request, sys.exc_info()[1])
    return response or defaults.server_error(request)


class RequestSizeLimitMiddleware:
    """413 for bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: at most {limit} bytes."}, status=413
            )
        return self.get_response(request)
