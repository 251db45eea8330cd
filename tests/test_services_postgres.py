"""scripts/services.sh's PostgreSQL under FerretDB: `up` again changes nothing, `status` shows its
memory, and the database has the setting the GIN indexes need. Stops nothing."""

import re
import subprocess

import psycopg
import pytest
from django.conf import settings

from tests import servicectl


@pytest.fixture(autouse=True)
def _postgres_running():
    servicectl.require("postgres")


def services(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(servicectl.SCRIPT), *args], capture_output=True, text=True, timeout=300
    )


def test_up_again_is_a_no_op_and_status_shows_memory():
    before = services("status").stdout
    result = services("up", "postgres", "mongodb")
    assert result.returncode == 0, result.stderr
    assert "creating a cluster" not in result.stderr
    after = services("status").stdout
    line = re.search(r"^postgres\s+127\.0\.0\.1:(\d+)\s+(.*)$", after, re.M)
    assert line and int(line.group(1)) == servicectl.PORTS["postgres"], after
    if "not started by this script" in line.group(2):
        pytest.skip("this PostgreSQL was not started by scripts/services.sh")
    assert re.fullmatch(
        r"running, pid \d+, rss \(Pss of its \d+ processes\) \d+ MiB", line.group(2)
    )
    # Same server processes: nothing was restarted.
    pid = re.compile(r"^(postgres|mongodb)\s+\S+\s+running, pid (\d+)", re.M)
    assert pid.findall(before) == pid.findall(after)


def test_ferretdb_database_plans_with_the_values():
    """FerretDB sends one SQL text for equality on any field: with cached generic plans the GIN
    indexes would go unused."""
    with psycopg.connect(settings.FERRETDB_POSTGRESQL_URL, autocommit=True) as conn:
        assert conn.execute("SHOW plan_cache_mode").fetchone()[0] == "force_custom_plan"
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("15.")
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
