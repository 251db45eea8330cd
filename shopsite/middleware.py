"""Turn a backend outage in any view (pages included) into a 503 naming the backend."""

import logging

from django.http import JsonResponse
from django.shortcuts import render

from .errors import backend_of

logger = logging.getLogger(__name__)


class BackendUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except Exception as exc:
            # Outages raised outside a view (e.g. the Redis session store on save).
            response = self._outage_response(request, exc)
            if response is None:
                raise
            return response

    def process_exception(self, request, exc):
        return self._outage_response(request, exc)

    @staticmethod
    def _outage_response(request, exc):
        backend = backend_of(exc)
        if backend is None:
            return None
        logger.warning("%s unavailable on %s: %s", backend, request.path, type(exc).__name__)
        accepts_html = "text/html" in request.headers.get("Accept", "")
        if accepts_html:
            response = render(request, "503.html", {"backend": backend}, status=503)
        else:
            response = JsonResponse({"detail": f"{backend} unavailable"}, status=503)
        response["Retry-After"] = "5"
        return response


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
