"""Multi-node stores as real processes (scripts/cluster.sh), for `make test-cluster`.

They need a few GiB and minutes to start, so they run only when SHOPSITE_CLUSTER_TESTS=1 (the
make target sets it); every part started here is stopped again at the end of the session.
"""

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cluster.sh"
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SHOPSITE_CLUSTER_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="multi-node cluster test: run with `make test-cluster`")
    for item in items:
        if "cluster" in item.keywords:
            item.add_marker(skip)


def cluster(*args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"cluster.sh {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def cluster_env() -> dict[str, str]:
    return dict(line.split("=", 1) for line in cluster("env").splitlines() if "=" in line)


def node_pid(name: str) -> int:
    state = Path(os.environ.get("CLUSTER_STATE") or ROOT / ".services" / "cluster")
    return int((state / name / "pid").read_text())


@pytest.fixture(scope="session")
def cluster_part():
    """cluster_part("cassandra") starts that part once per session; all are stopped at the end."""
    started: list[str] = []

    def up(part: str) -> dict[str, str]:
        if part not in started:
            t0 = time.monotonic()
            started.append(part)
            cluster("up", part)
            print(f"cluster {part} up in {time.monotonic() - t0:.0f}s")
        return cluster_env()

    yield up
    if started:
        cluster("down", *started)


_written: list[str] = []


def write_artifact(name: str, text: str) -> None:
    """Measured figures: a file in test-artifacts/, repeated at the end of the run's output."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(text)
    _written.append(text)


def pytest_terminal_summary(terminalreporter):
    for text in _written:
        terminalreporter.write_line("")
        for line in text.splitlines():
            terminalreporter.write_line(line)
