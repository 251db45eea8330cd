"""Reads of the sales figures: stored summaries plus the ledger entries they do not hold yet
(docs/sales-summaries.md, "Reading"). Nothing here writes."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from shopsite.errors import BackendUnavailable
from shopsite.timeutil import as_utc, hour_key, parse_iso, shop_zone, utcnow

from .. import repository
from . import store
from .figures import (
    CUSTOMER,
    DAY,
    DAY_LINES,
    FIGURES,
    HOUR,
    HOUR_LINES,
    LINES,
    MONTH_LINES,
    add,
    add_rows_into,
    entry_effects,
    in_order,
    summarize,
)
from .fold import cancelled_ids, customer_times, is_current

ONE_HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)


class Rebuilding(BackendUnavailable):
    """The summaries are being (re)built: reads answer 503 with Retry-After until they are."""

    def __init__(self):
        super().__init__("sales figures", "being rebuilt from the orders; retry shortly")


class Reader:
    """One exact read: the stored summaries first, then the ledger entries they may lack, each
    added to a summary whose `pass` is below the entry's."""

    def __init__(self):
        self.state = store.state()
        if not is_current(self.state):
            raise Rebuilding()
        self.docs: dict[tuple[str, str], dict | None] = {}
        self.passes: dict[tuple[str, str], int] = {}
        self.parents: set[tuple[str, str]] = set()  # (kind, prefix): every key under it is read

    def get_each(self, kind: str, keys) -> dict[str, dict | None]:
        found = store.get_each(kind, keys)
        for key in keys:
            self._keep(kind, key, found.get(key))
        return {key: found.get(key) for key in keys}

    def find(self, kind: str, parent: str) -> None:
        for where in [w for w in self.docs if w[0] == kind and w[1].startswith(parent)]:
            del self.docs[where]  # read again: the entries are added to it again
        self.parents.add((kind, parent))
        for key, doc in store.find(kind, parent).items():
            self._keep(kind, key, doc)

    def _keep(self, kind, key, doc) -> None:
        self.docs[(kind, key)] = doc
        self.passes[(kind, key)] = doc.get("pass", 0) if doc else 0

    def _covers(self, kind: str, key: str) -> bool:
        return (kind, key) in self.docs or any(
            kind == k and key.startswith(parent) for k, parent in self.parents
        )

    def finish(self) -> "Reader":
        """Add the entries not yet in the summaries read (see the module docstring)."""
        self._fetch()
        self._apply(set(self.docs) | {("*", "*")})
        return self

    def more(self, kind: str, parent: str) -> dict[str, dict]:
        """Read more summaries after `finish` (a list walking further back): exact by the same
        rule, with the entries fetched again only if a pass started meanwhile."""
        before = set(self.docs)
        self.find(kind, parent)
        if store.state()["next"] != self.last:
            self._fetch()
        self._apply((set(self.docs) - before) | {(kind, "*" + parent)})
        return self.under(kind, parent)

    def _fetch(self) -> None:
        # Untaken entries first, then `next`: an entry a pass takes after the first query was
        # untaken in it; one taken before it belongs to a pass below the `next` read after.
        entries = {entry["_id"]: entry for entry in store.unfolded()}
        self.last = store.state()["next"]
        for number in range(self.state.get("done", 0) + 1, self.last):
            entries.update((entry["_id"], entry) for entry in store.folded_in(number))
        self.entries = in_order(entries.values())

    def _apply(self, only: set) -> None:
        """Add the fetched entries to the summaries in `only` ((kind, key); (kind, "*" + parent):
        any key under it; ("*", "*"): every summary covered)."""
        every = ("*", "*") in only
        parents = {(kind, key[1:]) for kind, key in only if key.startswith("*")}
        zone = shop_zone()
        stale = set()
        for entry in self.entries:
            entry_pass = entry.get("pass") or self.last + 1  # not stamped yet: in no summary
            for effect in entry_effects(entry, zone):
                where = (effect.kind, effect.key)
                wanted = (
                    every
                    or where in only
                    or any(
                        effect.kind == kind and effect.key.startswith(parent)
                        for kind, parent in parents
                    )
                )
                if not wanted or not self._covers(*where):
                    continue
                if self.passes.get(where, 0) >= entry_pass:
                    continue
                self.docs[where] = add(effect.kind, self.docs.get(where), effect.delta)
                if effect.kind == CUSTOMER and self.docs[where].pop("stale_times", False):
                    stale.add(where)
        for where in stale:
            customer_times(where[1], self.docs[where], cancelled_ids(self.entries))

    def of(self, kind: str, key: str) -> dict | None:
        return self.docs.get((kind, key))

    def under(self, kind: str, parent: str) -> dict[str, dict]:
        return {
            key: doc
            for (k, key), doc in self.docs.items()
            if k == kind and key.startswith(parent) and doc
        }


# --- windows -------------------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """The UTC moment the shop's day begins."""
    return datetime.combine(day, time(0), tzinfo=shop_zone()).astimezone(UTC)


def split(start: datetime, end: datetime) -> tuple[list[str], list[tuple[str, datetime, datetime]]]:
    """(the shop's days wholly in [start, end), [(day, a, b)]: at most two parts of days)."""
    start, end = as_utc(start), as_utc(end)
    if start > end:
        raise ValueError("start must not be after end")
    whole, parts = [], []
    day = start.astimezone(shop_zone()).date()
    while start < end:
        begins, ends = day_start(day), day_start(day + timedelta(days=1))
        if begins >= start and ends <= end:
            whole.append(day.isoformat())
        else:
            parts.append((day.isoformat(), max(begins, start), min(ends, end)))
        start, day = ends, day + timedelta(days=1)
    return whole, parts


@dataclass
class Window:
    """The sales of [start, end): totals, one row per shop day with orders, and (if asked) the
    rows per product, category and customer. Computed in one walk."""

    start: datetime
    end: datetime
    totals: dict = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    days: dict[str, dict] = field(default_factory=dict)
    lines: dict[str, dict] = field(default_factory=lambda: {part: {} for part in LINES})

    def _add(self, day: str, figures: dict | None) -> None:
        if not figures or not any(figures.get(name) for name in FIGURES):
            return
        row = self.days.setdefault(day, {"day": day, **dict.fromkeys(FIGURES, 0)})
        for name in FIGURES:
            row[name] += figures.get(name, 0)
            self.totals[name] += figures.get(name, 0)

    def _add_lines(self, doc: dict | None) -> None:
        for part in LINES:
            add_rows_into(part, self.lines[part], (doc or {}).get(part, []))

    def day_rows(self) -> list[dict]:
        rows = [row for _, row in sorted(self.days.items()) if row["orders"]]
        return rows


def _hour_part(hour: str, a: datetime, b: datetime) -> tuple[str, datetime, datetime] | None:
    """How an hour is cut by [a, b): None if wholly inside."""
    begins = parse_iso(hour + ":00")
    if a <= begins and begins + ONE_HOUR <= b:
        return None
    return hour, max(a, begins), min(b, begins + ONE_HOUR)


def _hours(a: datetime, b: datetime) -> list[str]:
    hours, cursor = [], a.replace(minute=0, second=0, microsecond=0)
    while cursor < b:
        hours.append(hour_key(cursor))
        cursor += ONE_HOUR
    return hours


def window(start: datetime, end: datetime | None = None, *, lines: bool = True) -> Window:
    """The sales of [start, end) (see Window): whole months' rows from the month summaries,
    whole days from the day summaries, the rest of at most two part days from hour summaries,
    and the parts of hours cut by the window from their orders (their totals from the hour's
    quarters when cut on a quarter hour). Cancelled orders are not sales. No `end`: up to the
    moment of reading (Window.end), so the current hour counts whole, never read order by order
    (an end taken before the read cuts it: a busy hour would cost all its orders)."""
    with store.stats_reads():
        return _window(start, end, lines=lines)


def _window(start: datetime, end: datetime | None, *, lines: bool) -> Window:
    now = utcnow()
    end = now if end is None else end
    whole, parts = split(start, end)
    reader = Reader()
    months = _whole_months(whole)
    for month in sorted({day[:7] for day in whole}):
        reader.find(DAY, month)
        if lines and month not in months:
            reader.find(DAY_LINES, month)
    if lines and months:
        reader.get_each(MONTH_LINES, sorted(months))
    cut: list[tuple[str, str, datetime, datetime]] = []  # (day, hour, a, b)
    for _, a, b in parts:
        for utc_day in sorted({hour[:10] for hour in _hours(a, b)}):
            reader.find(HOUR, utc_day)
            if lines:
                reader.find(HOUR_LINES, utc_day)
    reader.finish()

    result = Window(start=as_utc(start), end=as_utc(end))
    for day in whole:
        result._add(day, reader.of(DAY, day))
        if lines and day[:7] not in months:
            result._add_lines(reader.of(DAY_LINES, day))
    for month in months:
        result._add_lines(reader.of(MONTH_LINES, month))
    for day, a, b in parts:
        for hour in _hours(a, b):
            part = _hour_part(hour, a, b)
            if part is not None and part[2] >= now and part[1] == parse_iso(hour + ":00"):
                part = None  # the current hour up to now or later: all of its orders so far
            if part is None:
                result._add(day, reader.of(HOUR, hour))
                if lines:
                    result._add_lines(reader.of(HOUR_LINES, hour))
            else:
                cut.append((day, *part))
    for day, hour, a, b in cut:
        quarters = _quarter_figures(reader.of(HOUR, hour), hour, a, b)
        if quarters is not None and not lines:
            result._add(day, quarters)
            continue
        docs = [
            doc for doc in repository.find_hour(hour)
            if a <= as_utc(doc["created_at"]) < b
        ]  # fmt: skip
        figures, rows = summarize(docs)
        result._add(day, figures)
        result._add_lines(rows)
    return result


def _quarter_figures(doc: dict | None, hour: str, a: datetime, b: datetime) -> dict | None:
    """An hour's figures between two quarter hours, from its stored quarters (None if [a, b) is
    not cut on quarter hours)."""
    begins = parse_iso(hour + ":00")
    if (a - begins) % QUARTER or (b - begins) % QUARTER:
        return None
    first, last = (a - begins) // QUARTER, (b - begins) // QUARTER
    quarters = (doc or {}).get("quarters") or [0] * 12  # flat: see figures.order_effects
    totals = dict.fromkeys(FIGURES, 0)
    for quarter in range(first, last):
        for index, name in enumerate(FIGURES):
            totals[name] += quarters[3 * quarter + index]
    return totals


def _whole_months(days: list[str]) -> set[str]:
    counts: dict[str, int] = defaultdict(int)
    for day in days:
        counts[day[:7]] += 1
    whole = set()
    for month, count in counts.items():
        first = date.fromisoformat(month + "-01")
        following = (first + timedelta(days=32)).replace(day=1)
        if count == (following - first).days:
            whole.add(month)
    return whole


# --- customers -----------------------------------------------------------------------------------


def customer(name: str) -> dict | None:
    with store.stats_reads():
        return _customer(name)


def _customer(name: str) -> dict | None:
    """A customer's figures over all their orders that are not cancelled; None if none."""
    reader = Reader()
    reader.get_each(CUSTOMER, [name])
    doc = reader.finish().of(CUSTOMER, name)
    if not doc or doc.get("orders", 0) <= 0:
        return None
    return doc
