"""The soak's resource figures (bench/soak.py): resident memory per role and backend connections per
role, sampled at the same phase of every minute, and minute 2 compared with the end.

Like with like: a minute's figure is the mean of SAMPLES samples a second apart, taken just before
that minute's kill (the kills fall on whole minutes), so every minute's youngest gunicorn worker is
about a minute old, never a few seconds. Only the processes under test count (the gunicorn arbiter
and workers, the event worker): not the soak's own clients.

A leak is not averaged away: the report also gives each role's trend over the minutes (least
squares, MiB per minute) and the workers' memory by age, since the kills keep replacing them.
"""

import time

from bench.procs import BACKEND_PORTS, age_seconds, children, connections, rss_mib

SAMPLES = 3
SAMPLE_LEAD_SECONDS = SAMPLES + 2.0  # the first sample this long before the minute ends
LIMIT_PERCENT = 10.0


def snapshot(arbiter: int, event_worker: int) -> dict:
    """One instant: memory, age and connections of every process under test."""
    workers = children(arbiter)
    held = connections([*workers, event_worker])
    return {
        "arbiter_mib": rss_mib(arbiter) or 0.0,
        "workers": [
            {"pid": pid, "age_s": age_seconds(pid) or 0.0, "mib": rss_mib(pid) or 0.0, **held[pid]}
            for pid in workers
        ],
        "event_worker": {
            "pid": event_worker,
            "mib": rss_mib(event_worker) or 0.0,
            **held[event_worker],
        },
    }


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def summarise(snapshots: list[dict]) -> dict:
    """A minute's figures: each the mean over its snapshots."""

    def figure(of) -> float:
        return round(_mean(of(s) for s in snapshots), 2)

    memory = {
        "gunicorn arbiter": figure(lambda s: s["arbiter_mib"]),
        "gunicorn workers (sum)": figure(lambda s: sum(w["mib"] for w in s["workers"])),
        "gunicorn worker (mean)": figure(lambda s: _mean(w["mib"] for w in s["workers"])),
        "event worker": figure(lambda s: s["event_worker"]["mib"]),
    }
    conns = {}
    for name in BACKEND_PORTS:
        conns[f"{name}, all"] = figure(
            lambda s, n=name: sum(w[n] for w in s["workers"]) + s["event_worker"][n]
        )
        conns[f"{name}, per gunicorn worker"] = figure(
            lambda s, n=name: _mean(w[n] for w in s["workers"])
        )
        conns[f"{name}, event worker"] = figure(lambda s, n=name: s["event_worker"][n])
    return {
        "memory_mib": memory,
        "connections": conns,
        "workers": [
            [w["pid"], round(w["age_s"]), round(w["mib"], 1)] for w in snapshots[-1]["workers"]
        ],
    }


def sample_minute(arbiter: int, event_worker_pid, samples: int = SAMPLES) -> dict:
    """SAMPLES snapshots a second apart; event_worker_pid() is read each time (it is restarted)."""
    taken = []
    for i in range(samples):
        if i:
            time.sleep(1.0)
        taken.append(snapshot(arbiter, event_worker_pid()))
    return summarise(taken)


def change_percent(before: float, after: float) -> float:
    if before == 0:
        return 0.0 if after == 0 else float("inf")
    return (after - before) / before * 100


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minute, value) points."""
    if len(points) < 2:
        return 0.0
    mx, my = _mean(x for x, _ in points), _mean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def comparison(minutes: dict[int, dict], first: int = 2) -> list[dict]:
    """Every figure at minute `first` and at the last minute, with the change and PASS/FAIL
    against LIMIT_PERCENT, and the trend over the minutes between (memory)."""
    first = first if first in minutes else min(minutes)
    last = max(minutes)
    rows = []
    for group in ("memory_mib", "connections"):
        for name, before in minutes[first][group].items():
            after = minutes[last][group][name]
            change = change_percent(before, after)
            points = [(m, minutes[m][group][name]) for m in sorted(minutes) if m >= first]
            rows.append(
                {
                    "group": group,
                    "name": name,
                    "minute": first,
                    "before": before,
                    "end_minute": last,
                    "after": after,
                    "change_percent": round(change, 1),
                    "slope_per_minute": round(slope_per_minute(points), 2),
                    "pass": abs(change) <= LIMIT_PERCENT,
                }
            )
    return rows


def by_age(minutes: dict[int, dict]) -> dict[int, tuple[float, int]]:
    """Gunicorn workers' memory by age in whole minutes, over every minute's last snapshot:
    {age: (mean MiB, number of observations)}. Flat past the first minutes: no leak in the
    workers; rising with age: they grow for as long as they live."""
    seen: dict[int, list[float]] = {}
    for minute in minutes.values():
        for _pid, age_s, mib in minute["workers"]:
            seen.setdefault(int(age_s // 60), []).append(mib)
    return {age: (round(_mean(v), 1), len(v)) for age, v in sorted(seen.items())}


def report(minutes: dict[int, dict]) -> list[str]:
    """The printed lines: memory and connections per minute, the comparison, the age view."""
    lines = [f"resources per minute (mean of {SAMPLES} samples a second apart, before the kill):"]
    head = list(minutes[min(minutes)]["memory_mib"]) + [
        n for n in minutes[min(minutes)]["connections"] if n.endswith(", all")
    ]
    lines.append("  min " + " | ".join(head))
    for m in sorted(minutes):
        values = [*minutes[m]["memory_mib"].values()] + [
            v for n, v in minutes[m]["connections"].items() if n.endswith(", all")
        ]
        lines.append(f"  {m:3d} " + " | ".join(f"{v:.1f}" for v in values))
    rows = comparison(minutes)
    first, last = rows[0]["minute"], rows[0]["end_minute"]
    lines.append(f"\nminute {first} vs end (minute {last}), limit ±{LIMIT_PERCENT:.0f}%:")
    for row in rows:
        unit = "MiB" if row["group"] == "memory_mib" else "conns"
        lines.append(
            f"  {row['name']:34} {row['before']:8.1f} -> {row['after']:8.1f} {unit:5} "
            f"{row['change_percent']:+6.1f}%  trend {row['slope_per_minute']:+.2f}/min  "
            f"{'PASS' if row['pass'] else 'FAIL'}"
        )
    for row in rows:
        span = row["end_minute"] - row["minute"]
        grown = row["slope_per_minute"] * span / row["before"] * 100 if row["before"] else 0.0
        if row["group"] == "memory_mib" and grown > LIMIT_PERCENT / 2:
            lines.append(
                f"  NOTE {row['name']} grows steadily: {row['slope_per_minute']:+.2f} MiB/min "
                f"over minutes {row['minute']}-{row['end_minute']} ({grown:+.1f}%)"
            )
    lines.append("\ngunicorn worker memory by age (minutes: MiB, observations):")
    lines.append("  " + ", ".join(f"{a}: {mib} ({n})" for a, (mib, n) in by_age(minutes).items()))
    return lines
