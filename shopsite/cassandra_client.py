"""The process's one Cassandra session, created lazily and closed at exit.

A failed first connect is not cached: the next call tries again, so the app recovers
when Cassandra comes back without a restart.

A ring is configuration only: CASSANDRA_HOSTS lists several contact points (any one that answers
is enough to discover the rest), requests go token-aware to a replica in CASSANDRA_LOCAL_DC, and
the default consistency (CASSANDRA_CONSISTENCY, LOCAL_QUORUM) keeps reads and writes working with
one of three replicas down.
"""

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    TokenAwarePolicy,
)
from django.conf import settings

from .lazy import PerProcess


def load_balancing_policy() -> TokenAwarePolicy:
    """Token-aware over the local datacenter: a statement goes straight to one of its replicas;
    remote datacenters' nodes are never used (used_hosts_per_remote_dc=0), so LOCAL_QUORUM
    stays local."""
    return TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.CASSANDRA_LOCAL_DC or None))


def _connect() -> Session:
    """A connected session (no keyspace set: statements name their keyspace)."""
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
        return cluster.connect()
    except Exception:
        cluster.shutdown()
        raise


_session = PerProcess(
    build=_connect,
    settings_key=lambda: (
        tuple(settings.CASSANDRA_HOSTS),
        settings.CASSANDRA_PORT,
        settings.CASSANDRA_LOCAL_DC,
        settings.CASSANDRA_CONSISTENCY,
    ),
    close=lambda session: session.cluster.shutdown(),
    close_replaced=True,
)
get_session = _session.get
close = _session.close


def warm() -> None:
    """Connect (shopsite.warmup): with protocol v3+ the driver holds exactly one connection per
    host plus its control connection, so the count needs no setting."""
    get_session()
