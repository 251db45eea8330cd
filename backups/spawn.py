"""Running a management command in the background for the web process, and noticing when it ends
without having recorded an outcome (killed, crashed at start-up)."""

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from shopsite.timeutil import iso, utcnow

from .exceptions import BackupError
from .status import FAILED, RUNNING


def command_start(
    args: list[str],
    *,
    what: str,
    read: Callable[[], dict | None],
    write: Callable[[dict], None],
) -> None:
    """Run `manage.py <args>` in a child process. The command records its own outcome; if the
    process ends while the record (read/write: its status record) still says running, the record
    is marked failed with the exit status. `what` names the work in messages ("backup")."""

    def on_exit(code: int) -> None:
        record = read()
        if record and record.get("status") == RUNNING:
            record.update(
                status=FAILED,
                finished_at=iso(utcnow()),
                error=f"the {what} process exited with status {code} before finishing",
            )
            write(record)

    try:
        process = subprocess.Popen(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
            cwd=settings.BASE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a reload or signal aimed at the web worker does not stop it.
            start_new_session=True,
        )
    except OSError as exc:
        on_exit(-1)
        raise BackupError(f"could not start the {what} process: {exc.strerror}") from exc
    threading.Thread(
        target=lambda: on_exit(process.wait()), name=f"reap-{process.pid}", daemon=True
    ).start()
