"""`rebuild_summaries`: every hour's, day's and customer's summary compared with its orders, and
every month's with its days (`--verify`), or recomputed from them. Passes over the whole
`orders` collection: for operators, never for a request."""

from . import repository
from . import summary_repository as store
from .figures import FIGURES, PARTS, merge, summarize, summarize_customer
from .summaries import (
    CUSTOMER_FIELDS,
    ORDER_FIELDS,
    hour_summary,
    refresh_all,
    refresh_customer,
    refresh_hours,
    resum_day,
    resum_month,
)


def _comparable(summary: dict | None) -> dict | None:
    """A comparable form of a summary (parts keyed, storage fields dropped)."""
    if not summary:
        return None
    found = {name: summary[name] for name in FIGURES}
    for part, key in PARTS.items():
        found[part] = {row[key]: row for row in summary.get(part) or []}
    for kept in ("moments", "per_minute"):
        if kept in summary:
            found[kept] = summary[kept]
    return found


def _hour_difference(hour: str) -> str | None:
    """What differs between the hour's stored summary and its orders (None: nothing, or the
    hour changed meanwhile and is dirty, so the stored one is not yet due)."""
    markers = store.hour_markers(hour)
    expected = hour_summary(repository.find_hour(hour, ORDER_FIELDS))
    stored = store.stored_hour(hour)
    for kept in ("moments", "per_minute"):
        if expected and stored and kept not in stored:
            del expected[kept]  # stored before hours kept it: read from the moments or orders
    expected, stored = _comparable(expected), _comparable(stored)
    if stored == expected or markers or store.hour_markers(hour):
        return None
    return _describe(f"hour {hour}", stored, expected)


def _day_difference(day: str) -> str | None:
    """The day's stored documents against its orders (skipped while any of its hours is dirty)."""
    if any(hour[:10] == day for hour in store.dirty_hours()):
        return None
    expected = _comparable(summarize(repository.find_day(day, ORDER_FIELDS)))
    days_doc, lines_doc, customers_doc = store.stored_day(day)
    stored = _comparable(days_doc and {**days_doc, **(lines_doc or {}), **(customers_doc or {})})
    if stored == expected or any(hour[:10] == day for hour in store.dirty_hours()):
        return None
    return _describe(f"day {day}", stored, expected)


def _month_difference(month: str) -> str | None:
    """The month's stored documents against the sum of its stored days (which are compared
    with the orders), skipped while any of its hours is dirty."""
    if any(hour[:7] == month for hour in store.dirty_hours()):
        return None
    expected = _comparable(merge(store.days_of_month(month)))
    stored = _comparable(store.stored_month(month))
    if stored == expected or any(hour[:7] == month for hour in store.dirty_hours()):
        return None
    return _describe(f"month {month}", stored, expected)


def _describe(what: str, stored: dict | None, expected: dict | None) -> str:
    def figures(summary):
        return "nothing" if summary is None else {name: summary[name] for name in FIGURES}

    if stored is None or expected is None:
        return f"{what}: stored {figures(stored)}, orders give {figures(expected)}"
    parts = [name for name in expected if expected[name] != stored[name]]
    return (
        f"{what}: {', '.join(parts)} differ ({figures(stored)} stored, "
        f"{figures(expected)} from the orders)"
    )


def _customer_difference(name: str) -> str | None:
    markers = store.customer_markers(name)
    expected = summarize_customer(repository.find_customer(name, CUSTOMER_FIELDS))
    stored = store.customer(name)
    if stored is not None:
        stored = {key: stored[key] for key in ("orders", "total_cents", "first_order_at",
                                               "last_order_at")}  # fmt: skip
    if stored == expected or markers or store.customer_markers(name):
        return None
    return f"customer {name!r}: stored {stored}, orders give {expected}"


def rebuild(*, verify: bool, progress=None) -> list[str]:
    """Compare every hour's, day's and customer's summary with its orders; unless verifying
    only, then recompute all of them. Returns the differences found (before any rebuild)."""
    if verify:
        refresh_all()  # pending changes are not differences
    hours, days, customers = repository.scan_keys()
    hours = sorted(hours | store.all_summary_hours())
    days = sorted(days | store.all_summary_days())
    customers = sorted(customers | store.all_summary_customers())
    months = sorted({day[:7] for day in days} | store.all_summary_months())
    if progress:
        progress(total=len(hours) + len(days) + len(months) + len(customers))
    differences = []
    for kind, keys, compare in (
        ("hour", hours, _hour_difference),
        ("day", days, _day_difference),
        ("month", months, _month_difference),
        ("customer", customers, _customer_difference),
    ):
        for key in keys:
            difference = compare(key)
            if difference:
                differences.append(difference)
            if progress:
                progress(step=kind)
    if not verify:
        # A refresh adds what was written since; "recompute" markers make it read the orders.
        store.mark_dirty(hours=hours, customers=customers)
        refresh_hours(hours)  # each day re-summed once, after its hours
        for day in set(days) - {hour[:10] for hour in hours}:
            resum_day(day)  # a stale day without hours: emptied
        for month in sorted(months):
            resum_month(month)  # after its days (refresh_hours re-summed those with hours)
        for name in customers:
            refresh_customer(name)
        store.set_built(store.MONTHS_BUILT)
        store.set_built()
    return differences
