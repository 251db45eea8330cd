"""`make fuzz`: schemathesis over the whole API of a real gunicorn, every check and every phase,
with a random seed that it prints (pass it back to reproduce a run).

    python -m tests.fuzz [--seed N] [--max-examples N]

The server is this checkout's code with data of its own (the test settings with
SHOPSITE_TEST_ID=fuzz_<pid>: its own MongoDB database, Cassandra keyspace and a SQLite file
for Django's tables; Redis db FUZZ_REDIS_DB, default 14), all dropped or flushed at
the end. Operations that start background work on every example (a mongodump, a restore over
the database) are left out; backups/tests exercise them.
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.gunicorn_server import GunicornServer

ROOT = Path(__file__).resolve().parent.parent
EXCLUDED = ["POST /backups/", "POST /backups/{name}/restore/"]
PHASES = "examples,coverage,fuzzing,stateful"
ADMIN, ADMIN_PASSWORD = "fuzz-admin", "fuzz-" + secrets.token_hex(12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="reproduce an earlier run")
    parser.add_argument("--max-examples", type=int, default=50, help="per operation and phase")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    print(f"fuzz: seed {seed} (again: make fuzz SEED={seed})", flush=True)

    test_id = f"fuzz_{os.getpid()}"
    env = {
        "SHOPSITE_TEST_ID": test_id,
        "TEST_REDIS_URL": _redis_url(os.environ.get("FUZZ_REDIS_DB", "14")),
        # The fuzzer's own wrong logins must not lock out the address its admin logs in from.
        "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000000",
    }
    with tempfile.TemporaryDirectory(prefix="shopsite-fuzz-") as tmp:
        server = GunicornServer(Path(tmp), workers=2, env=env)
        with server:
            try:
                code = _run(server, seed, args.max_examples)
            finally:
                server.manage("shell", "-c", _DROP)
    print(f"fuzz: seed {seed}: {'no failure' if code == 0 else 'FAILURES above'}", flush=True)
    return code


def _redis_url(db: str) -> str:
    """The test settings' Redis (TEST_REDIS_URL, e.g. a private server) with the fuzz run's db."""
    parts = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit(parts._replace(path=f"/{int(db)}"))


def _run(server: GunicornServer, seed: int, max_examples: int) -> int:
    server.manage("init_mongo")
    server.manage("init_cassandra")
    server.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User;"
        "from sessions_app.permissions import ADMINS_GROUP;"
        f"u = User.objects.create_user({ADMIN!r}, password={ADMIN_PASSWORD!r}, is_staff=True);"
        "u.groups.add(Group.objects.get_or_create(name=ADMINS_GROUP)[0])",
    )
    command = [
        str(ROOT / ".venv" / "bin" / "schemathesis"),
        "run",
        server.url + "/openapi.json",
        "--checks", "all",
        # In its place: positive_data_acceptance_by_contract (tests/fuzz_hooks.py).
        "--exclude-checks", "positive_data_acceptance",
        "--phases", PHASES,
        "--seed", str(seed),
        "--max-examples", str(max_examples),
        "--workers", "1",  # one admin session: a second worker's login would end it
        *[option for name in EXCLUDED for option in ("--exclude-name", name)],
    ]  # fmt: skip
    hooks = {
        "SCHEMATHESIS_HOOKS": str(ROOT / "tests" / "fuzz_hooks.py"),
        "PYTHONPATH": str(ROOT),  # the hooks import tests.fuzz_contract
        "FUZZ_URL": server.url,
        "FUZZ_USERNAME": ADMIN,
        "FUZZ_PASSWORD": ADMIN_PASSWORD,
    }
    return subprocess.call(command, cwd=ROOT, env={**os.environ, **hooks})


# The run's data: its MongoDB database and Cassandra keyspace (the SQLite file goes with tmp).
_DROP = (
    "from django.conf import settings;"
    "from shopsite.mongo import get_client;"
    "from shopsite.cassandra_client import get_session;"
    "get_client().drop_database(settings.MONGODB_DB);"
    "get_session().execute('DROP KEYSPACE IF EXISTS ' + settings.CASSANDRA_KEYSPACE);"
    "from shopsite.redis_client import get_redis; get_redis().flushdb()"
)

if __name__ == "__main__":
    sys.exit(main())
