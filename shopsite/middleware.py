"""Turn a backend outage in any view (pages included) into a 503 naming the backend."""

import logging
import sys

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
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


# Pages (cookie sessions, CSRF, messages) live under these; everything else is the JSON API.
BROWSER_PATH_PREFIXES = ("/dashboard/", "/accounts/", "/admin/")


def _is_bearer_api_request(request) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer " and not (
        request.path_info.startswith(BROWSER_PATH_PREFIXES)
    )


class BrowserMiddleware:
    """Runs settings.BROWSER_MIDDLEWARE (cookie session, CSRF, login, messages, htmx) for every
    request except bearer-authenticated API calls, which need none of it: DRF authenticates
    them from the token alone, and CSRF protects only ambient (cookie) credentials.

    The inner chain is built as Django builds MIDDLEWARE, and its process_view /
    process_exception / process_template_response hooks run from here in the same order.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        handler = get_response
        self._view_hooks: list = []
        self._exception_hooks: list = []
        self._template_hooks: list = []
        for path in reversed(settings.BROWSER_MIDDLEWARE):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_view"):
                self._view_hooks.insert(0, middleware.process_view)
            if hasattr(middleware, "process_exception"):
                self._exception_hooks.append(middleware.process_exception)
            if hasattr(middleware, "process_template_response"):
                self._template_hooks.append(middleware.process_template_response)
            handler = convert_exception_to_response(middleware)
        self._browser_chain = handler

    def __call__(self, request):
        if _is_bearer_api_request(request):
            return self.get_response(request)
        request._shopsite_browser_chain = True
        return self._browser_chain(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(request, "_shopsite_browser_chain", False):
            for hook in self._view_hooks:
                response = hook(request, view_func, view_args, view_kwargs)
                if response is not None:
                    return response
        return None

    def process_exception(self, request, exception):
        if getattr(request, "_shopsite_browser_chain", False):
            for hook in self._exception_hooks:
                response = hook(request, exception)
                if response is not None:
                    return response
        return None

    def process_template_response(self, request, response):
        if getattr(request, "_shopsite_browser_chain", False):
            for hook in self._template_hooks:
                response = hook(request, response)
        return response
