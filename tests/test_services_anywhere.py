"""scripts/services.sh in a clone under a folder closed to other users (root's home is 0700):
Redis, PostgreSQL and FerretDB start on spare ports with the clone's own state folder and keep no
descriptor of their caller; FerretDB stores and reads through that PostgreSQL, logs at error level
to a file rotated by size, and runs in a session of its own. Everything started here is stopped
(and its cluster removed) at the end; the shared services are not touched."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import redis
from pymongo import MongoClient

from bench.server import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("closed-home")
    home.chmod(0o700)
    dest = home / "shopsite"
    shutil.copytree(ROOT / "scripts", dest / "scripts")
    return dest


@pytest.fixture(scope="module")
def services(clone):
    env = {
        **os.environ,
        "REDIS_PORT": str(free_port()),
        "POSTGRES_PORT": str(free_port()),
        "MONGODB_PORT": str(free_port()),
    }
    env.pop("SHOPSITE_STATE", None)  # the default: .services inside the clone

    def run(*args: str, timeout: float = 300, pass_fds=()) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "scripts/services.sh", *args],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            pass_fds=pass_fds,
        )

    cluster = subprocess.run(
        ["bash", "-c", "source scripts/services.sh; STATE=$PWD/.services; pg_dir"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        yield run, env, Path(cluster)
    finally:
        down = run("down", "redis", "postgres", "mongodb")
        assert down.returncode == 0, down.stderr
        if not Path(cluster).is_relative_to(clone):
            shutil.rmtree(cluster, ignore_errors=True)


def test_a_clone_in_a_closed_folder_starts_its_services(services, clone):
    run, env, cluster = services
    if os.geteuid() == 0:
        # The postgres user cannot enter the folder: the cluster lives where it can.
        assert not cluster.is_relative_to(clone), cluster
    # The caller holds a file open (as `flock` holds its lock): no server may keep it.
    held = clone.parent / "held-by-the-caller"
    with held.open("w") as caller_fd:
        result = run("up", "redis", "postgres", "mongodb", pass_fds=(caller_fd.fileno(),))
    assert result.returncode == 0, result.stderr
    assert (cluster / "data" / "PG_VERSION").is_file()
    for name in ("redis", "postgres", "mongodb"):
        pid = (clone / ".services" / name / "pid").read_text().strip()
        fds = Path(f"/proc/{pid}/fd")
        assert str(held) not in {os.readlink(fd) for fd in fds.iterdir()}, name

    assert redis.Redis(port=int(env["REDIS_PORT"])).ping()
    client = MongoClient(
        f"mongodb://127.0.0.1:{env['MONGODB_PORT']}/?directConnection=true",
        serverSelectionTimeoutMS=10_000,
    )
    try:
        client.anywhere.things.insert_one({"_id": "a", "n": 1})
        assert client.anywhere.things.find_one({"_id": "a"}) == {"_id": "a", "n": 1}
    finally:
        client.close()

    status = run("status").stdout
    for name in ("redis", "postgres", "mongodb"):
        assert any(
            line.startswith(name) and "running, pid" in line for line in status.splitlines()
        ), status


def test_ferretdb_logs_errors_only_to_a_rotated_file_in_its_own_session(services, clone):
    run, env, _ = services
    assert run("up", "mongodb").returncode == 0
    pid = int((clone / ".services" / "mongodb" / "pid").read_text())
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    log = clone / ".services" / "mongodb" / "ferretdb.log"
    assert "--log-level=error" in args
    assert f"--log-file={log}" in args
    assert "--log-max-bytes=10485760" in args and "--log-files=3" in args
    assert os.getsid(pid) == pid  # setsid: a terminal's hang-up meant for make run misses it
    assert log.is_file()


def test_ferretdb_log_rotates_by_size(tmp_path):
    """The built FerretDB (SQLite backend, debug level: a few lines per command) with a 4 KB
    limit and 2 rotated files: never more than 3 files, none past the limit."""
    binary = Path(os.environ.get("SHOPSITE_CACHE", "/var/tmp/shopsite-cache")) / "bin"
    (tmp_path / "data").mkdir()
    port = free_port()
    log = tmp_path / "ferretdb.log"
    server = subprocess.Popen(
        [
            str(binary / "shop-ferretdb"),
            "--handler=sqlite",
            f"--sqlite-url=file:{tmp_path / 'data'}/",
            f"--listen-addr=127.0.0.1:{port}",
            "--log-level=debug",
            f"--log-file={log}",
            "--log-max-bytes=4096",
            "--log-files=2",
        ]
    )
    try:
        client = MongoClient(
            f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=10_000
        )
        for n in range(40):
            client.rotation.things.insert_one({"n": n})
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    files = sorted(p.name for p in tmp_path.glob("ferretdb.log*"))
    assert files == ["ferretdb.log", "ferretdb.log.1", "ferretdb.log.2"]
    assert all((tmp_path / name).stat().st_size <= 4096 for name in files)
    assert "level=DEBUG" in (tmp_path / "ferretdb.log.2").read_text()
