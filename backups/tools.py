"""Running mongodump/mongorestore, and keeping the server's credentials out of everything they say.

The URI reaches the tools through a private --config file, never the command line (ps); their
stderr is read as it comes so that callers can follow their progress, and every message that
leaves this module is redacted.
"""

import contextlib
import json
import math
import os
import re
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings

ERROR_TAIL_CHARS = 2000
# Lines of the tool's stderr kept for the error message (the last ones say what failed).
KEPT_LINES = 200


def _uri_secrets(uri: str) -> set[str]:
    secrets: set[str] = set()
    try:
        parts = urlsplit(uri)
        if parts.password:
            secrets |= {parts.password, unquote(parts.password)}
        for key, value in parse_qsl(parts.query):
            if value and any(word in key.lower() for word in ("password", "secret", "token")):
                secrets |= {value, unquote(value)}
    except ValueError:
        pass
    return {secret for secret in secrets if len(secret) >= 1}


def redact_uri(uri: str) -> str:
    """The URI without user info and options: safe for logs, manifests and error messages."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable uri>"
    hosts = parts.netloc.rsplit("@", 1)[-1]
    userinfo = "***@" if "@" in parts.netloc else ""
    return f"{parts.scheme}://{userinfo}{hosts}{parts.path}"


_USERINFO = re.compile(r"(mongodb(?:\+srv)?://)[^@/\s]+@")


def redact(text: str, uri: str | None = None) -> str:
    uri = settings.MONGODB_URI if uri is None else uri
    if uri:
        text = text.replace(uri, redact_uri(uri))
    for secret in sorted(_uri_secrets(uri or ""), key=len, reverse=True):
        text = text.replace(secret, "***")
    # Any other form of the URI (the tools echo the one they were given) loses its user info.
    return _USERINFO.sub(r"\1***@", text)


def _tool_config(uri: str) -> str:
    """A 0600 YAML file for the tools' --config: the URI stays off the command line (ps)."""
    fd, path = tempfile.mkstemp(prefix="shopsite-mongotools-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"uri: {json.dumps(uri)}\n")  # a JSON string is a valid YAML scalar
    return path


def _tool_uri(uri: str) -> tuple[str, int]:
    """The URI for mongo-tools and its server selection timeout in whole seconds. mongo-tools 100.x
    reads the URI's serverSelectionTimeoutMS as seconds (500 ms waits 500 s), so the option is
    moved to --serverSelectionTimeout."""
    seconds = int(getattr(settings, "BACKUP_SERVER_SELECTION_TIMEOUT_SECONDS", 30))
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri, seconds
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "serverselectiontimeoutms":
            with contextlib.suppress(ValueError):
                seconds = max(1, math.ceil(int(value) / 1000))
        else:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query, safe=":,/"))), seconds


@dataclass
class ToolResult:
    tool: str
    returncode: int
    stderr_tail: list[str]

    def error(self) -> str:
        """Why it failed, in a few redacted lines."""
        lines = [line for line in self.stderr_tail if line.strip()]
        failed = [line for line in lines if "Failed" in line or "error" in line.lower()]
        detail = "\n".join((failed or lines)[-5:])[-ERROR_TAIL_CHARS:]
        return redact(f"{self.tool} exited with status {self.returncode}: {detail or 'no output'}")


def run_tool(
    tool: str, args: list[str], *, on_line: Callable[[str], None] | None = None
) -> ToolResult:
    """Run mongodump or mongorestore (the binary from settings <TOOL>_BIN) against MONGODB_URI,
    handing each stderr line to on_line as it comes. Killed after BACKUP_TIMEOUT_SECONDS
    (subprocess.TimeoutExpired)."""
    binary = str(getattr(settings, f"{tool.upper()}_BIN", tool))
    timeout = float(getattr(settings, "BACKUP_TIMEOUT_SECONDS", 3600.0))
    uri, selection_seconds = _tool_uri(settings.MONGODB_URI)
    config = _tool_config(uri)
    killed = threading.Event()
    tail: deque[str] = deque(maxlen=KEPT_LINES)
    try:
        with subprocess.Popen(
            [binary, f"--config={config}", f"--serverSelectionTimeout={selection_seconds}", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        ) as process:

            def kill() -> None:
                killed.set()
                process.kill()

            timer = threading.Timer(timeout, kill)
            timer.start()
            try:
                for line in process.stderr:
                    tail.append(line.rstrip("\n"))
                    if on_line is not None:
                        on_line(tail[-1])
            except BaseException:
                process.kill()
                raise
            finally:
                timer.cancel()
    finally:
        os.unlink(config)
    if killed.is_set():
        raise subprocess.TimeoutExpired([binary, *args], timeout)
    return ToolResult(tool, process.returncode, list(tail))
