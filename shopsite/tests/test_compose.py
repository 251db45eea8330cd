"""docker-compose.yml is checked with Debian's docker-compose (no Docker engine needed)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def no_env_file(tmp_path_factory) -> list[str]:
    """A developer's .env (written by make run) must not fill in what these tests leave out."""
    empty = tmp_path_factory.mktemp("compose") / "empty.env"
    empty.write_text("")
    return ["--env-file", str(empty)]


def render(no_env_file: list[str], file: str = "docker-compose.yml") -> dict:
    """`docker-compose config -q` must pass; then the resolved file as a dict."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose missing: scripts/services.sh install provides it"
    env = {**os.environ, "SECRET_KEY": "x" * 60}
    args = [binary, *no_env_file, "-f", file, "config"]
    subprocess.run([*args, "-q"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return yaml.safe_load(out.stdout)


@pytest.fixture(scope="module")
def compose(no_env_file) -> dict:
    return render(no_env_file)


@pytest.mark.parametrize("file", ["docker-compose.yml", "docker-compose.cluster.yml"])
def test_compose_refuses_to_start_without_a_secret_key(no_env_file, file):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        ["docker-compose", *no_env_file, "-f", file, "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_services_images_and_ports(compose):
    services = compose["services"]
    assert set(services) == {"web", "worker", "backup", "mongo", "redis", "cassandra"}
    assert services["mongo"]["image"].startswith("mongo:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["cassandra"]["image"].startswith("cassandra:")
    ports = services["web"]["ports"]
    assert any(str(p.get("published", "")) == "7000" and p["target"] == 7000 for p in ports)
    assert services["web"]["environment"]["DEBUG"] == "false"


def test_healthchecks_and_startup_order(compose):
    services = compose["services"]
    for name in ("web", "mongo", "redis", "cassandra", "backup"):
        assert services[name]["healthcheck"]["test"], name
    web_deps = services["web"]["depends_on"]
    for backend in ("mongo", "redis", "cassandra"):
        assert web_deps[backend]["condition"] == "service_healthy"
    assert "eventlog_worker" in " ".join(services["worker"]["command"])
    assert "crontab add" in services["backup"]["command"]


def test_named_volumes_and_backup_mount(compose):
    assert {"mongo-data", "redis-data", "cassandra-data"} <= set(compose["volumes"])
    # docker-compose 1.29 prints short syntax: "source:target:mode".
    backup = [m.split(":") for m in compose["services"]["backup"]["volumes"]]
    assert any(
        src.endswith("/mongo_backup") and dst == "/app/mongo_backup" for src, dst, _ in backup
    )
    assert "mongo-data:/data/db:rw" in compose["services"]["mongo"]["volumes"]
    assert "cassandra-data:/var/lib/cassandra:rw" in compose["services"]["cassandra"]["volumes"]
