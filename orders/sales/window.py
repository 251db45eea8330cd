"""The sales of a window [start, end): totals, day rows and the rows per product, category and
customer, from the summaries (read.Reader) in one exact walk. Nothing here writes.

What a window reads grows with the months that have sales, never with its length in days:
- the whole years inside it: their months' figures (one query a year, or one for every month of
  the store past LONG_YEARS years), then the days and rows of only the months that have sales;
- the months of the (at most two) years it cuts: each month's days, and the rows of a whole
  month from the month, of a cut one from its days;
- the (at most two) days it cuts: their UTC days' hours, and the parts of hours it cuts from
  their orders (their totals from the hour's quarters when cut on a quarter hour).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from shopsite.timeutil import as_utc, hour_key, parse_iso, shop_zone, utcnow

from .. import repository
from . import store
from .figures import (
    DAY,
    DAY_BUYERS,
    DAY_LINES,
    FIGURES,
    GOODS,
    HOUR,
    HOUR_BUYERS,
    HOUR_LINES,
    LINES,
    MONTH,
    MONTH_BUYERS,
    MONTH_LINES,
    add_rows_into,
    summarize,
)
from .read import Reader

ONE_DAY, ONE_HOUR, QUARTER = timedelta(days=1), timedelta(hours=1), timedelta(minutes=15)
LONG_YEARS = 3


@dataclass
class Window:
    """The sales of [start, end): totals, one row per shop day with orders, and (if asked) the
    rows per product, category and customer."""

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
        return [row for _, row in sorted(self.days.items()) if row["orders"]]


def day_start(day: date) -> datetime:
    """The UTC moment the shop's day begins."""
    return datetime.combine(day, time(0), tzinfo=shop_zone()).astimezone(UTC)


def split(start: datetime, end: datetime) -> tuple[tuple[date, date] | None, list[tuple]]:
    """(the first and last of the shop's days wholly in [start, end), or None if none; the parts
    of days it cuts, at most two: [(day, a, b)])."""
    start, end = as_utc(start), as_utc(end)
    if start > end:
        raise ValueError("start must not be after end")
    zone = shop_zone()
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if day_start(last) >= end:
        last -= ONE_DAY  # the end's own day has nothing before the end
    parts = []
    for day in sorted({first, last}) if first <= last else []:
        begins, ends = day_start(day), day_start(day + ONE_DAY)
        if begins < start or ends > end:
            parts.append((day.isoformat(), max(begins, start), min(ends, end)))
    whole_first = first + ONE_DAY if parts and parts[0][0] == first.isoformat() else first
    whole_last = last - ONE_DAY if parts and parts[-1][0] == last.isoformat() else last
    return ((whole_first, whole_last) if whole_first <= whole_last else None), parts


def window(
    start: datetime | timedelta, end: datetime | None = None, *, lines=tuple(LINES)
) -> Window:
    """The sales of [start, end) (see the module docstring). Cancelled orders are not sales.
    `lines`: the parts of Window.lines wanted (products, categories, customers), none for totals
    and days only. No `end`: up to the moment of reading (Window.end), so the current hour counts
    whole, never read order by order (an end taken before the read cuts it: a busy hour would
    cost all its orders). A timedelta `start`: that long before the end."""
    with store.stats_reads():
        return _window(start, end, lines=set(lines))


def _line_kinds(lines: set[str]) -> list[tuple[str, str, str]]:
    """The (hour, day, month) kinds of summary holding the parts wanted."""
    kinds = []
    if lines & set(GOODS):
        kinds.append((HOUR_LINES, DAY_LINES, MONTH_LINES))
    if "customers" in lines:
        kinds.append((HOUR_BUYERS, DAY_BUYERS, MONTH_BUYERS))
    return kinds


def _window(start: datetime | timedelta, end: datetime | None, *, lines: set[str]) -> Window:
    now = utcnow()
    end = now if end is None else end
    start = end - start if isinstance(start, timedelta) else start
    whole, parts = split(start, end)
    kinds = _line_kinds(lines)
    years, months = _calendar(whole)
    whole_months = {month for month in months if _is_whole(month, whole)}
    reader = Reader()
    # A year's months in one query; past a few years, every month of the store in one (a dozen
    # a year of the shop's history, fewer than the window's years).
    for parent in years if len(years) <= LONG_YEARS else [""]:
        reader.find(MONTH, parent)
    for month in months:
        reader.find(DAY, month)
    for _, day_kind, month_kind in kinds:
        reader.get_each(month_kind, sorted(whole_months))
        for month in sorted(set(months) - whole_months):
            reader.find(day_kind, month)
    hours = [
        (day, hour, _hour_part(hour, a, b, now)) for day, a, b in parts for hour in _hours(a, b)
    ]
    for utc_day in sorted({hour[:10] for _, hour, _ in hours}):
        reader.find(HOUR, utc_day)
        for hour_kind, _, _ in kinds:
            reader.find(hour_kind, utc_day)
    reader.finish()
    # The whole years' months with sales (the entries added): their days and rows, read now.
    whole_years = set(years)
    sold = [
        month
        for month, doc in sorted(reader.under(MONTH, "").items())
        if month[:4] in whole_years and any(doc.get(name) for name in FIGURES)
    ]
    if sold:
        gets = [(month_kind, sold) for _, _, month_kind in kinds]
        reader.more(finds=[(DAY, month) for month in sold], gets=gets)
        months, whole_months = months + sold, whole_months | set(sold)

    result = Window(start=as_utc(start), end=as_utc(end))
    first, last = (day.isoformat() for day in whole) if whole else ("", "")
    for month in months:
        for day, doc in sorted(reader.under(DAY, month).items()):
            if first <= day <= last:
                result._add(day, doc)
        for _, day_kind, month_kind in kinds:
            if month in whole_months:
                result._add_lines(reader.of(month_kind, month))
                continue
            for day, doc in reader.under(day_kind, month).items():
                if first <= day <= last:
                    result._add_lines(doc)
    for day, hour, part in hours:
        if part is None:
            result._add(day, reader.of(HOUR, hour))
            for hour_kind, _, _ in kinds:
                result._add_lines(reader.of(hour_kind, hour))
            continue
        _, a, b = part
        quarters = _quarter_figures(reader.of(HOUR, hour), hour, a, b)
        if quarters is not None and not kinds:
            result._add(day, quarters)
            continue
        docs = [doc for doc in repository.find_hour(hour) if a <= as_utc(doc["created_at"]) < b]
        figures, rows = summarize(docs)
        result._add(day, figures)
        result._add_lines({part: rows[part] for part in lines})
    return result


def _calendar(whole: tuple[date, date] | None) -> tuple[list[str], list[str]]:
    """(the years wholly inside the days [first, last], the months of the years it cuts that
    it touches): "YYYY" and "YYYY-MM" keys."""
    if whole is None:
        return [], []
    first, last = whole
    years = [
        f"{year:04d}"
        for year in range(first.year, last.year + 1)
        if date(year, 1, 1) >= first and date(year, 12, 31) <= last
    ]
    months = []
    for year in sorted({first.year, last.year} - {int(y) for y in years}):
        for number in range(1, 13):
            begins = date(year, number, 1)
            if begins <= last and _month_end(begins) >= first:
                months.append(f"{year:04d}-{number:02d}")
    return years, months


def _month_end(begins: date) -> date:
    return (begins + timedelta(days=32)).replace(day=1) - ONE_DAY


def _is_whole(month: str, whole: tuple[date, date] | None) -> bool:
    begins = date.fromisoformat(month + "-01")
    return whole is not None and begins >= whole[0] and _month_end(begins) <= whole[1]


def _hour_part(hour: str, a: datetime, b: datetime, now: datetime) -> tuple | None:
    """How an hour is cut by [a, b): None if wholly inside, or if it is the current hour read up
    to now or later (all of its orders so far)."""
    begins = parse_iso(hour + ":00")
    if a <= begins and (begins + ONE_HOUR <= b or b >= now):
        return None
    return hour, max(a, begins), min(b, begins + ONE_HOUR)


def _hours(a: datetime, b: datetime) -> list[str]:
    hours, cursor = [], a.replace(minute=0, second=0, microsecond=0)
    while cursor < b:
        hours.append(hour_key(cursor))
        cursor += ONE_HOUR
    return hours


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
