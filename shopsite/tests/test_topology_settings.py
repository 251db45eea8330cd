"""Distribution is configuration only: replica-set, Sentinel and ring settings reach the clients.

A MongoDB replica set cannot run here (FerretDB has none), so its options are checked on the
client pymongo builds from MONGODB_URI; the Sentinel and ring paths are exercised against real
processes by tests/cluster (make test-cluster).
"""

import os
import subprocess
import sys
import time

import pytest
import redis
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from pymongo import ReadPreference
from pymongo.write_concern import WriteConcern

from shopsite import cassandra_client, mongo, redis_client

from .test_compose import ROOT

REPLICA_SET_URI = "mongodb://127.0.0.1:1,127.0.0.1:2,127.0.0.1:3/?replicaSet=rs0"


@pytest.fixture
def mongo_uri(settings):
    """Point the process's client at another URI for the test, then back (closing the probe)."""

    def use(uri: str):
        settings.MONGODB_URI = uri
        return mongo.get_client()

    yield use
    mongo.close()


def test_replica_set_uri_reaches_the_client_with_majority_writes(mongo_uri, settings):
    client = mongo_uri(REPLICA_SET_URI)
    assert client.options.replica_set_name == "rs0"
    assert client.write_concern == WriteConcern(w="majority")
    assert mongo.get_db().write_concern == WriteConcern(w="majority")
    # Writes and ordinary reads stay on the primary.
    assert mongo.get_db().read_preference == ReadPreference.PRIMARY
    assert {("127.0.0.1", port) for port in (1, 2, 3)} == set(
        client.topology_description._topology_settings.seeds
    )


def test_write_concern_in_the_uri_wins(mongo_uri):
    client = mongo_uri(REPLICA_SET_URI + "&w=2&wtimeoutMS=5000")
    assert client.write_concern == WriteConcern(w=2, wtimeout=5000)


def test_single_server_keeps_the_default_write_concern(mongo_uri):
    client = mongo_uri("mongodb://127.0.0.1:1/?directConnection=true")
    assert client.options.replica_set_name is None
    assert client.write_concern == WriteConcern()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("primary", ReadPreference.PRIMARY),
        ("secondaryPreferred", ReadPreference.SECONDARY_PREFERRED),
        ("nearest", ReadPreference.NEAREST),
    ],
)
def test_stats_reads_use_the_configured_read_preference(mongo_uri, settings, name, expected):
    settings.MONGODB_STATS_READ_PREFERENCE = name
    mongo_uri(REPLICA_SET_URI)
    assert mongo.stats_db().read_preference == expected
    assert mongo.stats_db().name == settings.MONGODB_DB
    assert mongo.get_db().read_preference == ReadPreference.PRIMARY


def test_stats_read_preference_works_against_the_real_server(mongo, settings):
    # A standalone server (FerretDB here) serves secondaryPreferred reads itself.
    settings.MONGODB_STATS_READ_PREFERENCE = "secondaryPreferred"
    mongo["orders"].insert_one({"_id": "rp-1", "total_cents": 5})
    from shopsite.mongo import stats_db

    assert stats_db()["orders"].find_one({"_id": "rp-1"})["total_cents"] == 5


def _settings_error(**env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import shopsite.settings"],
        cwd=ROOT,
        env={**os.environ, "SHOPSITE_ENV_FILE": "", "SHOPSITE_ALLOW_INSECURE_KEY": "1", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


def test_bad_topology_settings_are_refused_at_start_naming_the_setting():
    assert "MONGODB_STATS_READ_PREFERENCE" in _settings_error(
        MONGODB_STATS_READ_PREFERENCE="secondaries"
    )
    assert "REDIS_SENTINELS" in _settings_error(REDIS_SENTINELS="sentinel1,sentinel2:26379")


def test_parse_sentinels():
    assert redis_client.parse_sentinels(" a:1, b.example:26379 ,") == [
        ("a", 1),
        ("b.example", 26379),
    ]
    assert redis_client.parse_sentinels("") == []
    with pytest.raises(ValueError, match="not host:port"):
        redis_client.parse_sentinels("a:x")


def test_cache_settings_single_server_and_sentinel():
    single = redis_client.cache_settings(
        "redis://:pw@host:6380/4",
        sentinels="",
        master="shopsite",
        sentinel_password="",
        timeout=2,
        failover_wait=3,
        pool_size=4,
    )
    assert single["LOCATION"] == "redis://:pw@host:6380/4"
    assert "CONNECTION_FACTORY" not in single["OPTIONS"]
    # A fixed pool, as get_redis()'s: a thread waits for a free connection, never opens a fifth.
    assert single["OPTIONS"]["CONNECTION_POOL_CLASS"] == "redis.BlockingConnectionPool"
    assert single["OPTIONS"]["CONNECTION_POOL_KWARGS"] == {"max_connections": 4, "timeout": 2}

    sentinel = redis_client.cache_settings(
        "redis://:pw@ignored:6380/4",
        sentinels="s1:26379,s2:26379",
        master="shopsite",
        sentinel_password="spw",
        timeout=2,
        failover_wait=3,
        pool_size=4,
    )
    # django-redis takes the monitored name from the URL's host; one URL: reads on the primary.
    assert sentinel["LOCATION"] == "redis://:pw@shopsite/4"
    assert (
        sentinel["OPTIONS"]["CONNECTION_FACTORY"] == "django_redis.pool.SentinelConnectionFactory"
    )
    assert sentinel["OPTIONS"]["SENTINELS"] == [("s1", 26379), ("s2", 26379)]
    assert sentinel["OPTIONS"]["SENTINEL_KWARGS"]["password"] == "spw"
    assert sentinel["OPTIONS"]["CONNECTION_POOL_KWARGS"]["retry"].seconds == 3
    assert "CONNECTION_POOL_CLASS" not in sentinel["OPTIONS"]


def test_sentinel_client_is_built_from_the_settings(settings):
    settings.REDIS_SENTINELS = "127.0.0.1:1,127.0.0.1:2"
    settings.REDIS_SENTINEL_MASTER = "shop-master"
    settings.REDIS_URL = "redis://:secret@anything/5"
    try:
        client = redis_client.get_redis()
        pool = client.connection_pool
        assert pool.service_name == "shop-master"
        assert pool.is_master
        assert pool.connection_kwargs["db"] == 5
        assert pool.connection_kwargs["password"] == "secret"
        assert pool.connection_kwargs["retry"].seconds == settings.REDIS_FAILOVER_WAIT_SECONDS
        sentinels = pool.sentinel_manager.sentinels
        assert [s.connection_pool.connection_kwargs["port"] for s in sentinels] == [1, 2]
    finally:
        redis_client.close()


def test_failover_retry_waits_its_time_budget_then_raises():
    calls = []

    def refused():
        calls.append(time.monotonic())
        raise redis.ConnectionError("refused")

    retry = redis_client.FailoverRetry(1.0)
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        retry.call_with_retry(refused, lambda error: None)
    assert 0.7 <= time.monotonic() - started <= 1.5
    assert 3 <= len(calls) <= 5
    outcomes = iter([redis.ConnectionError("refused"), "PONG"])

    def then_ok():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert retry.call_with_retry(then_ok, lambda error: None) == "PONG"
    # Not an outage (a wrong command, say): no retry.
    with pytest.raises(redis.ResponseError):
        retry.call_with_retry(lambda: (_ for _ in ()).throw(redis.ResponseError("x")), print)


def test_cassandra_policy_is_token_and_datacenter_aware(settings):
    settings.CASSANDRA_LOCAL_DC = "dc1"
    policy = cassandra_client.load_balancing_policy()
    assert isinstance(policy, TokenAwarePolicy)
    assert isinstance(policy._child_policy, DCAwareRoundRobinPolicy)
    assert policy._child_policy.local_dc == "dc1"
    assert policy._child_policy.used_hosts_per_remote_dc == 0
