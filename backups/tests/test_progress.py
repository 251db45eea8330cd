"""Progress of backup_mongo / restore_mongo: plain lines in logs when not on a terminal, a tqdm bar
on one."""

import logging
import os
import pty
import re
import select
import subprocess
import sys

from backups.progress import LogProgress, ToolProgress, progress_for

from .conftest import ROOT, good_backups, manage, seed

# What mongodump 100.10 and mongorestore 100.10 write to stderr (captured from real runs).
DUMP_LINES = [
    "2026-11-30T14:31:23.140+0000\twriting shop.orders to archive '/b/x.gz'",
    "2026-11-30T14:31:23.169+0000\twriting shop.products to archive '/b/x.gz'",
    "2026-11-30T14:31:23.354+0000\tdone dumping shop.products (300 documents)",
    "2026-11-30T14:31:28.718+0000\t[##########..............]  shop.orders  9101/20000  (45.5%)",
    "2026-11-30T14:31:31.277+0000\t[########################]  shop.orders  20000/20000  (100.0%)",
    "2026-11-30T14:31:31.287+0000\tdone dumping shop.orders (20000 documents)",
]
RESTORE_LINES = [
    "2026-11-30T14:21:22.336+0000\treading metadata for shop.orders from archive '/b/x.gz'",
    "2026-11-30T14:21:22.523+0000\tfinished restoring shop.products (300 documents, 0 failures)",
    "2026-11-30T14:21:24.036+0000\tshop.orders  1.00MB",
    "2026-11-30T14:21:25.046+0000\tshop.orders  2.00MB",
    "2026-11-30T14:21:25.046+0000\tfinished restoring shop.orders (20000 documents, 0 failures)",
    "2026-11-30T14:21:25.046+0000\t20300 document(s) restored successfully. 0 document(s) failed.",
]


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "backups.progress"]


def test_dump_lines_become_log_lines_at_each_tenth(caplog):
    caplog.set_level(logging.INFO, logger="backups.progress")
    progress = LogProgress()
    progress.start("dumping b", 20300)
    feed = ToolProgress(progress)
    for line in DUMP_LINES:
        feed(line)
    progress.finish()
    messages = _messages(caplog)
    assert messages[:2] == [
        "dumping b: 0/20300 documents (0%)",
        "dumping b: 9401/20300 documents (46%)",  # orders 9101 + products 300
    ]
    assert messages[2].startswith("dumping b: 20300/20300 documents (100%), done in ")
    assert len(messages) == 3


def test_restore_bytes_are_converted_to_documents(caplog):
    caplog.set_level(logging.INFO, logger="backups.progress")
    progress = LogProgress()
    progress.start("restoring b", 20300)
    # orders: 20,000 documents in 4 MiB of BSON; 1 MiB read is a quarter of them.
    feed = ToolProgress(progress, sizes={"orders": (20000, 4 * 1024**2), "products": (300, 9000)})
    seen = []
    for line in RESTORE_LINES:
        feed(line)
        seen.append(sum(feed.done.values()))
    assert seen == [0, 300, 5300, 10300, 20300, 20300]
    assert _messages(caplog)[1:] == [
        "restoring b: 5300/20300 documents (26%)",
        "restoring b: 10300/20300 documents (50%)",
    ]


def test_log_lines_are_few_for_a_long_step(caplog):
    caplog.set_level(logging.INFO, logger="backups.progress")
    progress = LogProgress()
    progress.start("dumping b", 1_000_000)
    for done in range(0, 1_000_001, 1000):
        progress.update(done)
    progress.finish()
    messages = _messages(caplog)
    assert len(messages) == 11  # start, 10% .. 90%, done
    assert messages[5] == "dumping b: 500000/1000000 documents (50%)"
    assert messages[-1].startswith("dumping b: 1000000/1000000 documents (100%), done in ")


def test_unknown_total_counts_without_percent(caplog):
    caplog.set_level(logging.INFO, logger="backups.progress")
    progress = LogProgress()
    progress.start("dumping b", None)
    progress.update(42)
    progress.finish()
    first, last = _messages(caplog)
    assert first == "dumping b: 0 documents"
    assert last.startswith("dumping b: 42 documents, done in ")


def test_commands_write_progress_lines_when_not_on_a_terminal(mongo, backup_dir, redis_client):
    seed(mongo, orders=40, products=4)
    dumped = manage("backup_mongo")  # stdout and stderr are pipes, as under cron
    assert dumped.returncode == 0, dumped.stderr
    (name,) = good_backups()
    lines = dumped.stderr.splitlines()
    assert any(
        re.search(rf"INFO backups\.progress dumping {name}: 0/44 documents \(0%\)$", line)
        for line in lines
    ), lines
    assert any(
        re.search(rf"backups\.progress dumping {name}: 44/44 documents \(100%\), done in ", line)
        for line in lines
    ), lines
    assert any(f"checking {name}: reading the archive back" in line for line in lines)
    assert "\r" not in dumped.stderr and "|" not in dumped.stderr  # no bar drawn into a log

    restored = manage("restore_mongo", name)
    assert restored.returncode == 0, restored.stderr
    lines = restored.stderr.splitlines()
    for expected in (
        rf"backups\.progress verifying {name}: checksum and a full read of the archive$",
        rf"backups\.progress restoring {name}: 0/44 documents \(0%\)$",
        rf"backups\.progress restoring {name}: 44/44 documents \(100%\), done in ",
        rf"backups\.progress indexing {name}: 2/2 collections \(100%\), done in ",
    ):
        assert any(re.search(expected, line) for line in lines), (expected, lines)
    assert "\r" not in restored.stderr


def test_a_terminal_gets_a_bar(mongo, backup_dir, redis_client):
    seed(mongo, orders=10, products=2)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "backup_mongo"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        assert ready, "no output for 120 s"
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    text = output.decode(errors="replace")
    (name,) = good_backups()
    assert f"dumping {name}: 100%" in text and "12/12" in text and "documents" in text
    assert "\r" in text  # redrawn in place


def test_progress_for_picks_by_terminal(tmp_path):
    with open(tmp_path / "log", "w") as stream:
        assert isinstance(progress_for(stream), LogProgress)
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as terminal:
        assert not isinstance(progress_for(terminal), LogProgress)
    os.close(leader)
