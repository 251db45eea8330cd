"""docker-compose.cluster.yml: the production topology (replica set, ring, Sentinels, two webs)."""

import pytest

from .test_compose import ROOT, no_env_file, render  # noqa: F401 (a fixture)

FILE = "docker-compose.cluster.yml"


@pytest.fixture(scope="module")
def cluster(no_env_file) -> dict:  # noqa: F811
    return render(no_env_file, FILE)


def test_services_and_official_images(cluster):
    services = cluster["services"]
    assert set(services) == {
        "proxy",
        "web1",
        "web2",
        "worker1",
        "worker2",
        "backup",
        "mongo1",
        "mongo2",
        "mongo3",
        "mongo-init",
        "cassandra1",
        "cassandra2",
        "cassandra3",
        "redis-primary",
        "redis-replica",
        "sentinel1",
        "sentinel2",
        "sentinel3",
    }
    images = {name: s.get("image", "") for name, s in services.items()}
    assert images["proxy"].startswith("nginx:")
    assert all(images[f"mongo{i}"].startswith("mongo:") for i in (1, 2, 3))
    assert all(images[f"cassandra{i}"].startswith("cassandra:") for i in (1, 2, 3))
    for name in ("redis-primary", "redis-replica", "sentinel1", "sentinel2", "sentinel3"):
        assert images[name].startswith("redis:"), name


def test_one_port_in_front_of_two_webs(cluster):
    services = cluster["services"]
    assert [str(p["published"]) for p in services["proxy"]["ports"]] == ["7000"]
    for name, service in services.items():
        if name != "proxy":
            assert "ports" not in service, f"{name} should only be reachable through the proxy"
    conf = (ROOT / "deploy" / "nginx.cluster.conf").read_text()
    assert "server web1:7000" in conf and "server web2:7000" in conf
    mount = services["proxy"]["volumes"][0].split(":")
    assert mount[0].endswith("deploy/nginx.cluster.conf")
    assert mount[1] == "/etc/nginx/conf.d/default.conf"
    for worker in ("worker1", "worker2"):
        assert "eventlog_worker" in " ".join(services[worker]["command"])


def test_apps_are_configured_for_the_distributed_stores(cluster):
    for name in ("web1", "web2", "worker1", "worker2", "backup"):
        env = cluster["services"][name]["environment"]
        assert "replicaSet=rs0" in env["MONGODB_URI"], name
        assert env["MONGODB_URI"].count("mongo") == 4  # scheme + three members
        assert env["REDIS_SENTINELS"] == "sentinel1:26379,sentinel2:26379,sentinel3:26379"
        assert env["REDIS_SENTINEL_MASTER"] == "shopsite"
        assert env["CASSANDRA_HOSTS"] == "cassandra1,cassandra2,cassandra3"
        assert env["CASSANDRA_LOCAL_DC"] == "dc1"
        assert "NetworkTopologyStrategy" in env["CASSANDRA_REPLICATION"]
        assert "'dc1': 3" in env["CASSANDRA_REPLICATION"]
        assert env["CASSANDRA_CONSISTENCY"] == "LOCAL_QUORUM"


def test_mongodb_replica_set_and_its_initiation(cluster):
    services = cluster["services"]
    for i in (1, 2, 3):
        assert services[f"mongo{i}"]["command"][:3] == ["mongod", "--replSet", "rs0"]
    init = " ".join(services["mongo-init"]["command"])
    for i in (1, 2, 3):
        assert f"host: 'mongo{i}:27017'" in init
    assert "rs.initiate" in init and "try { rs.status(); }" in init  # once, then a no-op
    deps = services["web1"]["depends_on"]
    assert deps["mongo-init"]["condition"] == "service_completed_successfully"


def test_cassandra_ring_of_three_in_one_datacenter(cluster):
    services = cluster["services"]
    for i in (1, 2, 3):
        env = services[f"cassandra{i}"]["environment"]
        assert env["CASSANDRA_SEEDS"] == "cassandra1,cassandra2"
        assert env["CASSANDRA_DC"] == "dc1"
        assert env["CASSANDRA_ENDPOINT_SNITCH"] == "GossipingPropertyFileSnitch"
        assert env["CASSANDRA_CLUSTER_NAME"] == "shopsite"
    # Joining nodes one at a time: Cassandra refuses concurrent bootstraps.
    assert services["cassandra2"]["depends_on"]["cassandra1"]["condition"] == "service_healthy"
    assert services["cassandra3"]["depends_on"]["cassandra2"]["condition"] == "service_healthy"


def test_redis_primary_replica_and_three_sentinels(cluster):
    services = cluster["services"]
    assert "--replicaof" in services["redis-replica"]["command"]
    assert "redis-primary" in services["redis-replica"]["command"]
    for i in (1, 2, 3):
        script = services[f"sentinel{i}"]["command"][-1]
        assert "sentinel monitor shopsite redis-primary 6379 2" in script  # quorum 2 of 3
        assert "--sentinel" in script
        assert services[f"sentinel{i}"]["volumes"] == [f"sentinel{i}-data:/data:rw"]


def test_healthchecks_and_named_volumes(cluster):
    services = cluster["services"]
    for name, service in services.items():
        if name in {"mongo-init", "worker1", "worker2"}:
            continue
        assert service["healthcheck"]["test"], name
    volumes = set(cluster["volumes"])
    for i in (1, 2, 3):
        assert f"mongo{i}-data:/data/db:rw" in services[f"mongo{i}"]["volumes"]
        assert f"cassandra{i}-data:/var/lib/cassandra:rw" in services[f"cassandra{i}"]["volumes"]
        assert {f"mongo{i}-data", f"cassandra{i}-data", f"sentinel{i}-data"} <= volumes
    assert {"redis-primary-data", "redis-replica-data", "app-data"} <= volumes
