"""scripts/services.sh's wait_for, run through bash on throwaway pid files: a server still being
exec'ed is waited for, and one that died is reported at once. Starts and stops no store."""

import subprocess
import time
from pathlib import Path

from tests import servicectl


def run_wait_for(
    tmp_path: Path, launch: str, ready_after: float | None
) -> subprocess.CompletedProcess:
    """Sources services.sh, launches `launch` in the background as the "mongodb" service (its pid
    file written as start_mongodb does) and waits up to 20 s for a file that appears after
    `ready_after` seconds (never when None)."""
    ready = tmp_path / "ready"
    touch = f"( sleep {ready_after}; touch '{ready}' ) &" if ready_after is not None else ""
    script = f"""
source '{servicectl.SCRIPT}'
STATE='{tmp_path}'
mkdir -p "$STATE/mongodb"
{launch} &
echo $! >"$STATE/mongodb/pid"
{touch}
wait_for mongodb 20 /dev/null test -e '{ready}'
echo waited
"""
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)


def test_a_server_not_yet_execed_is_waited_for(tmp_path):
    """Between fork and exec the launched pid's command line is the script's own, without the
    server's address: that is no reason to call it dead (CI once failed so, in 17 s)."""
    result = run_wait_for(tmp_path, "( sleep 2; exec sleep 5 )", ready_after=1)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "waited"
    assert "exited during start-up" not in result.stderr


def test_a_server_that_died_is_reported_at_once(tmp_path):
    started = time.monotonic()
    result = run_wait_for(tmp_path, "( exit 3 )", ready_after=None)
    assert result.returncode != 0
    assert "mongodb exited during start-up" in result.stderr
    assert "waited" not in result.stdout
    # Not the 20 s timeout: the dead process is noticed on the next poll.
    assert time.monotonic() - started < 10
