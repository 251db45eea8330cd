"""`make run` for real, in a copy of the repo, on a spare port and the test run's own stores:
it listens on 127.0.0.1 only and says so; a hang-up sent to its process group (what closing the
terminal does) stops every process it started and frees the port, and a second `make run` right
after serves again (then a TERM stops it the same way)."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from bench.server import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The working tree's tracked and new files (not ignored ones), with the shared venv."""
    dest = tmp_path_factory.mktemp("run") / "shopsite"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())
    return dest


def run_env(repo: Path, port: int) -> dict[str, str]:
    """A user's environment (no test settings module) pointed at this test run's stores."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "SHOPSITE_ENV_FILE", "SECRET_KEY", "BIND"}
    }
    env.update(
        PORT=str(port),
        WEB_WORKERS="1",
        MONGODB_DB=settings.MONGODB_DB,
        REDIS_URL=settings.REDIS_URL,
        CASSANDRA_KEYSPACE=settings.CASSANDRA_KEYSPACE,
        DATABASE_URL=f"sqlite:///{repo / 'db.sqlite3'}",
        EVENT_SPOOL_DIR=str(repo / ".services" / "event-spool"),
        SHOPSITE_ADMIN_PASSWORD="",
    )
    return env


def process_tree(root: int) -> set[int]:
    """root and every process below it (setsid children included)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def in_group(pgid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids still running (a zombie has exited)."""
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


def listeners(port: int) -> set[str]:
    """Local addresses listening on port (IPv4), as "a.b.c.d"."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _, state = line.split()[1:4]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class MakeRun:
    """`make run` in its own session and process group, as a terminal starts it."""

    def __init__(self, repo: Path, port: int, log: Path):
        self.port = port
        self.log = log
        self.process = subprocess.Popen(
            ["make", "run"],
            cwd=repo,
            env=run_env(repo, port),
            stdin=subprocess.DEVNULL,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_serving(self, timeout: float = 300) -> None:
        """Until gunicorn answers and the event worker has gone round its loop once (its
        heartbeat, shown by /healthz): by then both handle TERM in their own way."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                health = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).json()
                if health["outbox"].get("worker_last_seen"):
                    return
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.5)
        tail = self.log.read_text()[-3000:]
        raise AssertionError(f"make run did not serve in {timeout}s: {tail}")

    def signal_and_wait_gone(self, signum: int, timeout: float = 60) -> None:
        started = process_tree(self.process.pid) | in_group(self.process.pid)
        assert len(started) >= 4, started  # make, run.sh, the event worker, gunicorn (+ its worker)
        os.killpg(self.process.pid, signum)
        self.process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while alive(started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(started), f"left running: {alive(started)}\n{self.log.read_text()[-2000:]}"
        assert not in_group(self.process.pid)


@pytest.fixture
def stores(_mongo_session, redis_client, cassandra_keyspace):
    """The test run's database, Redis db (flushed: no event worker heartbeat yet) and keyspace,
    ready for make run's init commands."""


def test_make_run_listens_on_loopback_and_a_hang_up_stops_everything(repo, stores, tmp_path):
    port = free_port()
    first = MakeRun(repo, port, tmp_path / "first.log")
    try:
        first.wait_serving()
        output = first.log.read_text()
        assert f"listening on 127.0.0.1:{port}, this machine only" in output
        assert "BIND=0.0.0.0" in output
        assert listeners(port) == {"127.0.0.1"}

        first.signal_and_wait_gone(signal.SIGHUP)
        assert port_is_free(port)
        output = first.log.read_text()
        # Stopped in order by run.sh, not by the HUP itself: gunicorn would take it as "reload"
        # (and log "Hang up"); the event worker would die mid-batch.
        assert "Hang up" not in output
        assert "eventlog worker: signal 15, stopping after the current batch" in output
    finally:
        if first.process.poll() is None:
            os.killpg(first.process.pid, signal.SIGKILL)

    second = MakeRun(repo, port, tmp_path / "second.log")
    try:
        second.wait_serving()
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["status"]
        second.signal_and_wait_gone(signal.SIGTERM)
        assert port_is_free(port)
    finally:
        if second.process.poll() is None:
            os.killpg(second.process.pid, signal.SIGKILL)


def test_bind_opens_it_to_the_network(repo, stores, tmp_path):
    port = free_port()
    env = run_env(repo, port) | {"BIND": "0.0.0.0"}
    log = tmp_path / "open.log"
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not listeners(port) and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        assert listeners(port) == {"0.0.0.0"}
        assert f"listening on 0.0.0.0:{port}, open to the network" in log.read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def test_make_run_and_compose_regroup_the_sales_figures_before_serving():
    """A changed SHOP_TIME_ZONE takes effect at the next start: both start paths run
    refresh_summaries before gunicorn."""
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert -1 < run_sh.find("manage.py refresh_summaries") < run_sh.find("gunicorn shopsite")
    compose = (ROOT / "docker-compose.yml").read_text()
    web = compose.split("\n  web:", 1)[1].split("\n  worker:", 1)[0]
    assert -1 < web.find("manage.py refresh_summaries") < web.find("exec gunicorn")
