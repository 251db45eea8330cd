"""What a process holds, read from /proc and `ss`: its children, resident memory, start time and
established connections to each backend (bench/soak.py, tests of the store warm-up)."""

import os
import re
import subprocess
from pathlib import Path

# The same variables as scripts/services.sh: a private set of services is counted correctly.
BACKEND_PORTS = {
    "mongodb": int(os.environ.get("MONGODB_PORT", 27017)),
    "redis": int(os.environ.get("REDIS_PORT", 6379)),
    "cassandra": int(os.environ.get("CASSANDRA_PORT", 9042)),
}
_PID = re.compile(r"pid=(\d+)")
_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    # The command may contain spaces and parentheses: the fields follow the last ")".
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry.name))[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return sorted(found)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def age_seconds(pid: int) -> float | None:
    """Seconds since the process started (from /proc: boot time + start ticks)."""
    try:
        started = int(_stat_fields(pid)[19]) / _TICKS
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return uptime - started


def connections(
    pids: list[int] | None = None, ports: dict[str, int] | None = None
) -> dict[int, dict[str, int]]:
    """Established TCP connections to each backend port, per process id holding the socket
    (client side; `ss -p`, which sees other users' processes only as root). pids: only these."""
    ports = ports or BACKEND_PORTS
    by_port = {port: name for name, port in ports.items()}
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established"], capture_output=True, text=True, check=True
    ).stdout
    counts: dict[int, dict[str, int]] = {pid: dict.fromkeys(ports, 0) for pid in (pids or [])}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        name = by_port.get(int(fields[3].rsplit(":", 1)[1]))
        if name is None:
            continue
        for pid in {int(p) for p in _PID.findall(line)}:
            if pids is None or pid in counts:
                counts.setdefault(pid, dict.fromkeys(ports, 0))[name] += 1
    return counts


def local_ports(pid: int, port: int) -> set[int]:
    """The local ports of `pid`'s established connections to `port` (to find them on the
    server's side, e.g. in Redis CLIENT LIST)."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established"], capture_output=True, text=True, check=True
    ).stdout
    found = set()
    for line in out.splitlines():
        fields = line.split()
        if (
            len(fields) >= 5
            and int(fields[3].rsplit(":", 1)[1]) == port
            and pid in {int(p) for p in _PID.findall(line)}
        ):
            found.add(int(fields[2].rsplit(":", 1)[1]))
    return found
