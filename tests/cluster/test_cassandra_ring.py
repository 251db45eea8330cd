"""A 3-node Cassandra ring (one datacenter, keyspace NetworkTopologyStrategy dc1:3, LOCAL_QUORUM).

With one node killed (SIGKILL), events are still written and read; when it returns, the two
others replay the hints they kept for it (hinted handoff; no repair is run), which is checked by
reading every event from that node alone, at consistency ONE, with the other two stopped. Writes the
node itself acknowledged just before it died may be missing from it (its commit log syncs every
10 s): they are reported, and their other two replicas hold them (the LOCAL_QUORUM read).
"""

import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import WhiteListRoundRobinPolicy
from django.conf import settings

from eventlog.management.commands.init_cassandra import init_cassandra
from eventlog.manager import CassandraLogManager
from shopsite import cassandra_client

from .conftest import ROOT, cluster, node_pid, write_artifact

pytestmark = [pytest.mark.cluster]


@pytest.fixture(scope="module")
def ring(cluster_part):
    """This process's Cassandra client pointed at the ring, and the run's own keyspace on it."""
    env = cluster_part("cassandra")
    saved = {
        name: getattr(settings, name)
        for name in (
            "CASSANDRA_HOSTS",
            "CASSANDRA_PORT",
            "CASSANDRA_LOCAL_DC",
            "CASSANDRA_REPLICATION",
        )
    }
    settings.CASSANDRA_HOSTS = env["CASSANDRA_HOSTS"].split(",")
    settings.CASSANDRA_PORT = int(env["CASSANDRA_PORT"])
    settings.CASSANDRA_LOCAL_DC = "dc1"
    settings.CASSANDRA_REPLICATION = env["CASSANDRA_REPLICATION"]
    keyspace = f"ring_{settings.TEST_ID}"
    cassandra_client.close()
    # The driver retries stopped nodes every second and warns each time: expected here.
    pool_log = logging.getLogger("cassandra.pool")
    level = pool_log.level
    pool_log.setLevel(logging.ERROR)
    try:
        init_cassandra(keyspace)
        yield {"keyspace": keyspace, "hosts": settings.CASSANDRA_HOSTS, "env": env}
    finally:
        cassandra_client.close()
        pool_log.setLevel(level)
        for name, value in saved.items():
            setattr(settings, name, value)


def node_log(address: str) -> Path:
    return ROOT / ".services" / "cluster" / f"cassandra-{address}" / "logs" / "stdout.log"


def hint_files(address: str) -> list[Path]:
    return list(
        (ROOT / ".services" / "cluster" / f"cassandra-{address}" / "data" / "hints").glob("*.hints")
    )


def test_ring_of_three_in_one_datacenter(ring):
    session = cassandra_client.get_session()
    hosts = session.cluster.metadata.all_hosts()
    assert sorted(h.address for h in hosts) == sorted(ring["hosts"])
    assert {h.datacenter for h in hosts} == {"dc1"}
    assert all(h.is_up for h in hosts)
    replication = session.cluster.metadata.keyspaces[ring["keyspace"]].replication_strategy
    assert type(replication).__name__ == "NetworkTopologyStrategy"
    assert replication.dc_replication_factors == {"dc1": 3}
    profile = session.cluster.profile_manager.default
    assert profile.consistency_level == ConsistencyLevel.LOCAL_QUORUM


def _write_stream(manager, stop: threading.Event, results: list):
    n = 0
    while not stop.is_set():
        n += 1
        t = time.monotonic()
        try:
            entry = manager.insert(event_type="ring_probe", user_id=f"u{n}", metadata=str(n))
            results.append((t, entry.event_id, None))
        except Exception as exc:  # counted: the figure is how many failed
            results.append((t, None, type(exc).__name__))
        time.sleep(0.01)


def test_one_node_killed_writes_and_reads_go_on_and_it_catches_up_by_hints(ring):
    manager = CassandraLogManager(keyspace=ring["keyspace"])
    first, second, victim = ring["hosts"]
    before = [
        manager.insert(event_type="ring_probe", user_id="before", metadata="0") for _ in range(20)
    ]

    # A steady stream of writes while the node stops and stays down.
    stop, results = threading.Event(), []
    writer = threading.Thread(target=_write_stream, args=(manager, stop, results))
    writer.start()
    time.sleep(2)
    t_stop = time.monotonic()
    # Killed, not shut down: no drain, no goodbye to gossip; the others find out by themselves.
    os.kill(node_pid(f"cassandra-{victim}"), signal.SIGKILL)
    time.sleep(8)
    stop.set()
    writer.join()
    during = [r for r in results if r[0] >= t_stop]
    failed = [r for r in during if r[1] is None]
    written = [r[1] for r in results if r[1] is not None]

    # LOCAL_QUORUM reads (2 of 3 replicas) see every acknowledged write.
    found = {e.event_id for e in manager.recent("ring_probe", hours=1, limit=100_000)}
    assert set(written) <= found
    assert all(manager.get(e.event_id) is not None for e in before)
    hints_kept = sum(len(hint_files(a)) for a in (first, second))

    t_back = time.monotonic()
    cluster("start", f"cassandra-{victim}")
    restart_seconds = time.monotonic() - t_back
    # The live nodes replay their hints to it (log line per file), then delete the files.
    deadline = time.monotonic() + 180
    replayed = False
    while time.monotonic() < deadline:
        logs = "".join(node_log(a).read_text(errors="replace") for a in (first, second))
        replayed = "hinted handoff of file" in logs and f"/{victim}:" in logs
        if replayed and not any(hint_files(a) for a in (first, second)):
            break
        time.sleep(1)
    handoff_seconds = time.monotonic() - t_back - restart_seconds
    assert replayed, "no hinted handoff to the returning node in the live nodes' logs"

    # Proof it caught up: the others stopped, the returned node alone serves every event at ONE.
    cluster("stop", f"cassandra-{first}", f"cassandra-{second}")
    alone = Cluster(
        contact_points=[victim],
        port=int(ring["env"]["CASSANDRA_PORT"]),
        execution_profiles={
            EXEC_PROFILE_DEFAULT: ExecutionProfile(
                load_balancing_policy=WhiteListRoundRobinPolicy([victim]),
                consistency_level=ConsistencyLevel.ONE,
                request_timeout=10,
            )
        },
        protocol_version=5,
    )
    try:
        only = CassandraLogManager(keyspace=ring["keyspace"], session=alone.connect())
        missing = {i for i in written if only.get(i) is None}
    finally:
        alone.shutdown()
    while_down = {r[1] for r in during if r[1] is not None}
    # Acknowledged by the node itself shortly before it died, but still in its commit log's
    # buffer (periodic sync, 10 s): lost from that node; its two peers have them.
    lost_by_kill = missing - while_down
    write_artifact(
        "cluster-cassandra.md",
        "# Cassandra ring, one of 3 nodes killed (SIGKILL; RF 3, LOCAL_QUORUM)\n\n"
        f"- writes in the 8 s from the kill on: {len(during)}, failed: {len(failed)} "
        f"({', '.join(sorted({r[2] for r in failed})) or 'none'}); "
        f"success rate {100 * (len(during) - len(failed)) / max(1, len(during)):.1f} %\n"
        f"- every acknowledged write read back at LOCAL_QUORUM with the node down: yes\n"
        f"- hint files kept by the live nodes while it was down: {hints_kept}\n"
        f"- node restart {restart_seconds:.0f} s; hints replayed {handoff_seconds:.0f} s after it "
        "answered CQL\n"
        f"- events missing on the returned node read alone at ONE: "
        f"{len(missing & while_down)} of {len(while_down)} written while it was down; "
        f"{len(lost_by_kill)} of {len(written) - len(while_down)} written just before the kill\n",
    )
    assert not missing & while_down, "hinted handoff missed writes made while it was down"
    assert len(failed) == 0
