"""The README's first steps in a clean environment: after `make run`'s setup step every
`manage.py` command works in a new terminal (no exported variables), because settings read the
git-ignored `.env` that the setup step writes. Runs in a copy of the repo (its own `.env` and
SQLite file), so a developer's `.env` and database are not touched."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PASSWORD = "Clean-env-" + "pass-4821"


def _getting_in() -> str:
    return README.split("## Getting in", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A copy of the working tree (tracked and new files, not ignored ones) with the shared venv."""
    dest = tmp_path_factory.mktemp("fresh") / "shopsite"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())
    return dest


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a new terminal has: no SECRET_KEY, no DJANGO_SETTINGS_MODULE, no test ids."""
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8", **extra}


def run(repo: Path, command: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=repo,
        env=clean_env(repo.parent, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_fails_without_the_setup_step(repo):
    result = run(repo, ".venv/bin/python manage.py check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.fixture(scope="module")
def set_up(repo) -> Path:
    """make run's setup step (without the services): .env, then migrate."""
    assert run(repo, "bash scripts/local-env.sh").returncode == 0
    result = run(repo, ".venv/bin/python manage.py migrate --noinput -v 0")
    assert result.returncode == 0, result.stderr
    return repo


def test_setup_writes_a_private_env_file_once(set_up):
    env_file = set_up / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    first = env_file.read_text()
    assert re.search(r"^SECRET_KEY=\S{40,}$", first, re.M)
    assert "SECURE_COOKIES=false" in first
    assert run(set_up, "bash scripts/local-env.sh").returncode == 0
    assert env_file.read_text() == first  # the key is kept: sessions stay valid across runs
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0, ".env must be git-ignored"


def test_the_environment_wins_over_env_file(set_up):
    script = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = run(
        set_up, f".venv/bin/python manage.py shell -v 0 -c '{script}'", SECRET_KEY="k" * 50
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "k" * 50


def test_fresh_machine_without_admin_is_told_how_to_create_one(set_up):
    result = run(set_up, ".venv/bin/python manage.py first_admin --ask")
    assert result.returncode == 0, result.stderr
    assert "No admin user yet" in result.stdout
    assert "manage.py createsuperuser" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        "DJANGO_SUPERUSER_PASSWORD='…' .venv/bin/python manage.py createsuperuser --noinput "
        "--username admin --email admin@example.com",
        "SHOPSITE_ADMIN_USERNAME=admin SHOPSITE_ADMIN_PASSWORD='…' "
        ".venv/bin/python manage.py create_admin",
    ],
)
def test_readme_getting_in_commands_then_sign_in(set_up, command):
    assert command in " ".join(_getting_in().replace("\\\n", " ").split()), "README changed"
    result = run(set_up, command.replace("…", PASSWORD))
    assert result.returncode == 0, result.stderr
    check = (
        "from django.contrib.auth import authenticate; "
        f"u = authenticate(username='admin', password='{PASSWORD}'); "
        "print(bool(u and u.is_superuser and u.is_staff))"
    )
    result = run(set_up, f'.venv/bin/python manage.py shell -v 0 -c "{check}"')
    assert result.stdout.strip() == "True", result.stderr
    # An admin now exists: make run stays quiet about it.
    assert run(set_up, ".venv/bin/python manage.py first_admin").stdout == ""


@pytest.mark.parametrize(
    "command", ["crontab show", "backup_mongo --help", "restore_mongo --help", "check"]
)
def test_other_readme_commands_load_settings(set_up, command):
    assert command.split()[0] in README
    result = run(set_up, f".venv/bin/python manage.py {command}")
    assert result.returncode == 0, result.stderr


def test_docker_compose_reads_the_same_env_file(set_up):
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose missing: scripts/services.sh install provides it"
    result = run(set_up, f"{binary} config")
    assert result.returncode == 0, result.stderr
    key = re.search(r"^SECRET_KEY=(\S+)$", (set_up / ".env").read_text(), re.M).group(1)
    assert f"SECRET_KEY: {key}" in result.stdout
