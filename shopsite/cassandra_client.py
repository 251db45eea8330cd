"""The process's one Cassandra session, created lazily and closed at exit.

A failed first connect is not cached: the next call tries again, so the app recovers
when Cassandra comes back without a restart.

A ring is configuration only: CASSANDRA_HOSTS lists several contact points (any one that answers
is enough to discover the rest), requests go token-aware to a replica in CASSANDRA_LOCAL_DC, and
the default consistency (CASSANDRA_CONSISTENCY, LOCAL_QUORUM) keeps reads and writes working with
one of three replicas down.
"""

import atexit
import os
import threading

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    TokenAwarePolicy,
)
from django.conf import settings

_lock = threading.Lock()
_cluster: Cluster | None = None
_session: Session | None = None
_key: tuple | None = None


def _settings_key() -> tuple:
    return (
        os.getpid(),
        tuple(settings.CASSANDRA_HOSTS),
        settings.CASSANDRA_PORT,
        settings.CASSANDRA_LOCAL_DC,
        settings.CASSANDRA_CONSISTENCY,
    )


def load_balancing_policy() -> TokenAwarePolicy:
    """Token-aware over the local datacenter: a statement goes straight to one of its replicas;
    remote datacenters' nodes are never used (used_hosts_per_remote_dc=0), so LOCAL_QUORUM
    stays local."""
    return TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.CASSANDRA_LOCAL_DC or None))


def get_session() -> Session:
    """A connected session (no keyspace set: statements name their keyspace)."""
    global _cluster, _session, _key
    key = _settings_key()
    if _session is not None and _key == key:
        return _session
    with _lock:
        if _session is None or _key != key:
            _shutdown()
            timeout = settings.BACKEND_TIMEOUT_SECONDS
            profile = ExecutionProfile(
                load_balancing_policy=load_balancing_policy(),
                consistency_level=getattr(ConsistencyLevel, settings.CASSANDRA_CONSISTENCY),
                request_timeout=max(timeout, 5.0),
            )
            cluster = Cluster(
                contact_points=settings.CASSANDRA_HOSTS,
                port=settings.CASSANDRA_PORT,
                execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                connect_timeout=timeout,
                control_connection_timeout=timeout,
                reconnection_policy=ConstantReconnectionPolicy(delay=1.0, max_attempts=None),
                protocol_version=5,
            )
            try:
                session = cluster.connect()
            except Exception:
                cluster.shutdown()
                raise
            _cluster, _session, _key = cluster, session, key
    return _session


def _shutdown() -> None:
    global _cluster, _session, _key
    if _cluster is not None and _key and _key[0] == os.getpid():
        _cluster.shutdown()
    _cluster = _session = _key = None


def close() -> None:
    with _lock:
        _shutdown()


atexit.register(close)
