"""The real server (gunicorn, and optionally the event worker) for crash tests, on free ports,
sharing this test run's MongoDB database, Redis db and Cassandra keyspace (same SHOPSITE_TEST_ID
and settings module), with Django's own tables in a SQLite file of its own.

with GunicornServer(tmp_path, faults=True) as server:
    httpx.post(server.url + "/orders/", headers=server.auth, json=...)
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from bench.server import start_gunicorn

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "crash-staff", "crash-" + "pass-" + "0123456789"


class GunicornServer:
    def __init__(self, directory: Path, *, workers: int = 2, env: dict | None = None):
        self.directory = Path(directory)
        self.workers = workers
        self.fault_file = self.directory / "fault"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shopsite.settings_test",
            "DATABASE_URL": f"sqlite:///{self.directory / 'django.sqlite3'}",
            "FAULT_INJECTION_FILE": str(self.fault_file),
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.url = ""
        self.auth: dict = {}

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def __enter__(self):
        self.prepare()
        self.start()
        return self

    def prepare(self) -> None:
        """Django's tables and the staff user (SQLite only: no store needed)."""
        self.manage("migrate", "--noinput", "-v", "0")
        script = (
            "from django.contrib.auth.models import User;"
            f"u, _ = User.objects.get_or_create(username={USERNAME!r});"
            "u.is_staff = True;"
            f"u.set_password({PASSWORD!r}); u.save()"
        )
        self.manage("shell", "-c", script)

    def start(self) -> None:
        self.url, self.process = start_gunicorn(self.env, workers=self.workers, threads=4)
        self.login()

    def login(self) -> None:
        """A new bearer token (again after a test flushed Redis, where sessions live)."""
        login = httpx.post(
            self.url + "/auth/login/", json={"username": USERNAME, "password": PASSWORD}
        )
        login.raise_for_status()
        self.auth = {"Authorization": f"Bearer {login.json()['session_token']}"}

    def start_worker(self) -> None:
        """The event worker process (outbox → Cassandra, and the purchase recovery)."""
        self.worker = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "eventlog_worker"], cwd=ROOT, env=self.env
        )

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
            self.worker = None

    def arm(self, step: str, action: str = "exit") -> None:
        self.fault_file.write_text(f"{step}={action}")

    def disarm(self) -> bool:
        """True if the armed fault had fired (its file was taken)."""
        fired = not self.fault_file.exists()
        self.fault_file.unlink(missing_ok=True)
        return fired

    def __exit__(self, *exc):
        self.stop_worker()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
