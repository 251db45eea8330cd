"""gunicorn's thread worker, answering a request it cannot parse in the API's JSON error shape.

gunicorn refuses a request line over --limit-request-line (4094 bytes by default), too many or
too large headers, a malformed line or header, before Django sees anything, and answers with an
HTML page. This worker answers the same refusals as `{"detail": ...}` (application/json), with
the status that names the problem (414 for the line, 431 for headers, 400 otherwise). Run it
with `--worker-class shopsite.gunicorn_worker.JSONErrorThreadWorker`.
"""

import json
from datetime import timedelta

from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

# The detail per refusal, by the status (and reason) that names the problem; anything else (a
# crash) keeps gunicorn's handling.
_REFUSALS = {
    (414, "URI Too Long"): {errors.LimitRequestLine: "Request line too long."},
    (431, "Request Header Fields Too Large"): {errors.LimitRequestHeaders: "Headers too large."},
    (501, "Not Implemented"): {errors.UnsupportedTransferCoding: "Unsupported transfer coding."},
    (403, "Forbidden"): {errors.ForbiddenProxyRequest: "Proxy request forbidden."},
    (400, "Bad Request"): {
        errors.InvalidRequestLine: "Malformed request line.",
        errors.InvalidRequestMethod: "Malformed request method.",
        errors.InvalidHTTPVersion: "Unsupported HTTP version.",
        errors.InvalidHeaderName: "Malformed header name.",
        errors.InvalidHeader: "Malformed header.",
        errors.ObsoleteFolding: "Folded header lines are not accepted.",
        errors.InvalidSchemeHeaders: "Contradicting scheme headers.",
        errors.InvalidProxyLine: "Malformed PROXY line.",
    },
}


def refusal(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, reason, detail) of a request gunicorn refused; None for anything else."""
    for (status, reason), details in _REFUSALS.items():
        for kind, detail in details.items():
            if isinstance(exc, kind):
                return status, reason, detail
    return None


def json_error(status: int, reason: str, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JSONErrorThreadWorker(ThreadWorker):
    def load_wsgi(self):
        """After the app is loaded (in the worker, after the fork) and before the first request:
        open the store connections (shopsite.warmup), so every worker holds the same ones. Not
        at import: the arbiter imports this module and must not hold store clients."""
        super().load_wsgi()
        from shopsite.warmup import warm_up

        warm_up()

    def handle_error(self, req, client, addr, exc):
        found = refusal(exc)
        if found is None:
            return super().handle_error(req, client, addr, exc)
        status, reason, detail = found
        addr = addr or ("", -1)  # a unix socket
        # What gunicorn logs; the detail sent is fixed text, never the client's bytes.
        self.log.warning("Invalid request from ip=%s: %s", addr[0], str(exc)[:200])
        req = req or getattr(exc, "req", None)
        if req is not None:  # the access log line gunicorn writes too
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            resp = Response(req, client, self.cfg)
            resp.status = f"{status} {reason}"
            resp.response_length = len(detail)
            self.log.access(resp, req, environ, timedelta(0))
        try:
            util.write_nonblock(client, json_error(status, reason, detail))
        except Exception:
            self.log.debug("Failed to send error message.")
