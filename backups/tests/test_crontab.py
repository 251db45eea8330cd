"""The hourly job django-crontab installs in the real user crontab. The user's existing crontab is
saved before and put back after each test."""

import os
import re
import shutil
import subprocess

import pytest
from django.conf import settings

from backups import repository

from .conftest import good_backups, manage, seed
from .test_backup_restore import BAD_URI

pytestmark = pytest.mark.skipif(not shutil.which("crontab"), reason="needs cron's crontab")


@pytest.fixture
def user_crontab():
    saved = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    yield
    manage("crontab", "remove")
    if saved.returncode == 0:
        subprocess.run(["crontab", "-"], input=saved.stdout, text=True, check=True)
    else:
        subprocess.run(["crontab", "-r"], capture_output=True)


def _our_lines() -> list[str]:
    listing = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if line.endswith(f"# {settings.CRONTAB_COMMENT}")]


def test_crontab_add_show_remove_runs_backup_mongo_hourly(
    user_crontab, mongo, backup_dir, redis_client
):
    added = manage("crontab", "add")
    assert added.returncode == 0, added.stderr

    shown = manage("crontab", "show")
    assert shown.returncode == 0, shown.stderr
    match = re.search(
        r"^(\w+) -> \('0 \* \* \* \*', 'backups.cron.backup_job'\)$",
        shown.stdout,
        re.M,
    )
    assert match, shown.stdout
    job_hash = match.group(1)

    (line,) = _our_lines()
    assert line.startswith("0 * * * * ")  # minute 0 of every hour
    assert f"manage.py crontab run {job_hash}" in line

    # What cron would run: the job takes a backup.
    seed(mongo, orders=3, products=1)
    ran = manage("crontab", "run", job_hash)
    assert ran.returncode == 0, ran.stderr
    (name,) = good_backups()
    assert repository.manifest_read(name)["collections"] == {"orders": 3, "products": 1}

    removed = manage("crontab", "remove")
    assert removed.returncode == 0 and _our_lines() == []


def test_schedule_comes_from_the_setting(user_crontab):
    added = manage("crontab", "add", env={"BACKUP_SCHEDULE": "15 */2 * * *"})
    assert added.returncode == 0, added.stderr
    (line,) = _our_lines()
    assert line.startswith("15 */2 * * * ") and "crontab run" in line


def _installed_command() -> str:
    """The command of our crontab line, as cron hands it to the shell."""
    (line,) = _our_lines()
    return line.split(None, 5)[5]


def test_cron_command_exits_non_zero_when_the_backup_fails(
    user_crontab, mongo, backup_dir, redis_client
):
    """django-crontab's own `crontab run` exits 0 whatever the job does; cron must see failures."""
    assert manage("crontab", "add").returncode == 0
    command = _installed_command()
    seed(mongo, orders=2, products=1)

    def cron(env=None):
        return subprocess.run(
            ["sh", "-c", command],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    failed = cron({"MONGODB_URI": BAD_URI})
    assert failed.returncode == 1, failed.stderr
    assert "backup failed: mongodump exited with status" in failed.stderr
    assert "s3cret-Pa55" not in failed.stderr + failed.stdout
    assert good_backups() == []
    (record,) = repository.manifest_names()
    assert repository.manifest_read(record)["status"] == "failed"

    ok = cron()
    assert ok.returncode == 0, ok.stderr
    (name,) = good_backups()
    assert f"backup {name} ok" in ok.stdout


def test_another_checkouts_line_is_left_alone(user_crontab):
    """django-crontab fails on a line with its comment but an unknown job; each checkout tags its
    lines with its own path, so another deployment's line breaks nothing and is kept."""
    foreign = (
        "0 * * * * /srv/other/python /srv/other/manage.py crontab run 0123456789abcdef"
        " # django-cronjobs for shopsite in /srv/other"
    )
    subprocess.run(["crontab", "-"], input=foreign + "\n", text=True, check=True)
    for command in (("crontab", "add"), ("crontab", "show"), ("crontab", "remove")):
        result = manage(*command)
        assert result.returncode == 0, (command, result.stderr)
    listing = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    # (Other lines may be there: another checkout's tests can share this crontab while we run.)
    assert foreign in listing.splitlines() and _our_lines() == []
