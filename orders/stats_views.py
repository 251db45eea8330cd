"""Dashboard page "Sales": totals, per-day chart, top products/categories, customer lookup.

Charts are drawn in the browser by Chart.js (vendored under static/, nothing from the network)
from figures the page carries as JSON (json_script), read from the same stats functions as the
API; every chart has a table of the same figures for screen readers and for people without
JavaScript. Money travels as plain amounts; the page formats it in the shop's locale.
"""

from datetime import date, datetime, timedelta

from django import forms
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sessions_app.permissions import staff_required
from shopsite.csv_export import csv_link, csv_response, wants_csv_page
from shopsite.money import cents_to_str
from shopsite.timeutil import shop_zone, utcnow

from . import sales, stats
from .exports import SALES_HEADERS, sales_rows
from .sales import day_start

TOP_ROWS = 10
RECENT_ORDERS = 10
MAX_DAYS = 3660


def _iso_date_widget() -> forms.DateInput:
    """A text box in ISO form (2026-11-08): a browser's own date picker writes the visitor's
    locale's form (11/08/2026) next to the ISO dates everywhere else."""
    return forms.DateInput(
        format="%Y-%m-%d",
        attrs={
            "inputmode": "numeric",
            "pattern": r"\d{4}-\d{2}-\d{2}",
            "placeholder": "YYYY-MM-DD",
            "size": 10,
            "autocomplete": "off",
        },
    )


class SalesForm(forms.Form):
    start = forms.DateField(label="From", input_formats=["%Y-%m-%d"], widget=_iso_date_widget())
    end = forms.DateField(
        label="To (inclusive)", input_formats=["%Y-%m-%d"], widget=_iso_date_widget()
    )
    customer = forms.CharField(label="Customer", required=False, max_length=200, strip=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("start", "Must not be after the end date.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("start", f"At most {MAX_DAYS} days.")
            elif end == date.max:
                self.add_error("end", "Must be before 9999-12-31.")
        return data


@require_GET
@staff_required
def sales_dashboard(request):
    # Dates are the shop's days: from its midnight (day_start) to the next one.
    today = utcnow().astimezone(shop_zone()).date()
    initial = {"start": today - timedelta(days=29), "end": today}
    form = SalesForm({**{k: v.isoformat() for k, v in initial.items()}, **request.GET.dict()})
    context = {"form": form}
    if not form.is_valid():
        return render(request, "orders/sales.html", context, status=400)

    first_day, last_day = form.cleaned_data["start"], form.cleaned_data["end"]
    start, end = day_start(first_day), day_start(last_day + timedelta(days=1))
    if wants_csv_page(request):
        return _sales_csv(request, start, end, f"{first_day}_{last_day}")
    period = sales.window(start, end)  # one walk for every panel
    totals = stats.totals(period)
    days = stats.breakdown(period, "day")
    # The period of the same length just before: the day chart's faint comparison series.
    span = last_day - first_day + timedelta(days=1)
    before = sales.window(day_start(first_day - span), start, lines=())
    previous_days = stats.breakdown(before, "day")
    products = stats.breakdown(period, "product", limit=TOP_ROWS)
    categories = stats.breakdown(period, "category", limit=TOP_ROWS)
    context.update(
        start=start,
        end=end,
        totals={**totals, "revenue": cents_to_str(totals["revenue_cents"])},
        day_chart=day_chart(days, first_day, last_day, previous=previous_days),
        product_chart=bar_chart(products, label="name", title="Top products by revenue"),
        category_chart=bar_chart(categories, label="category", title="Top categories by revenue"),
        csv_urls={table: csv_link(request, table=table) for table in CSV_TABLES},
        top_customers=[
            {**row, "revenue": cents_to_str(row["revenue_cents"])}
            for row in stats.breakdown(period, "customer", limit=TOP_ROWS)
        ],
    )

    name = form.cleaned_data["customer"]
    if name:
        customer = stats.customer_totals(name)
        context["customer_name"] = name
        if customer:
            context["customer"] = {
                **customer,
                "total_spent": cents_to_str(customer["total_spent_cents"]),
                "average_order": cents_to_str(customer["average_order_cents"]),
            }
            context["recent_orders"] = [
                {
                    "id": str(order["_id"]),
                    "created_at": order["created_at"],
                    "items": len(order.get("items", [])),
                    "quantity": order.get("quantity", 0),
                    "total": cents_to_str(order.get("total_cents", 0)),
                    "total_cents": order.get("total_cents", 0),
                }
                for order in stats.customer_recent_orders(name, RECENT_ORDERS)
            ]
    return render(request, "orders/sales.html", context)


# The page's tables as CSV downloads: every row of the range (the page shows the top ones).
CSV_TABLES = ("day", "product", "category", "customer")
CSV_TOP_CUSTOMERS = 10_000


def _sales_csv(request, start: datetime, end: datetime, span: str):
    table = request.GET.get("table")
    if table not in CSV_TABLES:
        return HttpResponseBadRequest(f"table: must be one of {', '.join(CSV_TABLES)}.")
    if table == "customer":
        rows = stats.top_customers(start, end, limit=CSV_TOP_CUSTOMERS)
    else:
        rows = stats.sold_breakdown(start, end, table)
    filename = f"sales-{table}-{span}.csv"
    return csv_response(sales_rows(rows), header=SALES_HEADERS[table], filename=filename)


def _amount(cents: int) -> float:
    """Money for the chart's JSON: a plain amount (the page formats it; 2 decimals exact)."""
    return round(cents / 100, 2)


def day_chart(
    rows: list[dict], first_day: date, last_day: date, *, previous: list[dict] | None = None
) -> dict:
    """Units and revenue for every day of the range (days without orders are 0), and the same
    for the period of equal length just before it, day by day, as `data` for Chart.js."""
    count = (last_day - first_day).days + 1
    prev_first = first_day - timedelta(days=count)
    by_day = {row["day"]: row for row in rows}
    prev_by_day = {row["day"]: row for row in previous or []}
    empty = {"orders": 0, "quantity": 0, "revenue_cents": 0}
    days, prev_days = [], []
    for index in range(count):
        key = (first_day + timedelta(days=index)).isoformat()
        row = by_day.get(key, empty)
        days.append(
            {
                "day": key,
                "orders": row["orders"],
                "quantity": row["quantity"],
                "revenue_cents": row["revenue_cents"],
                "revenue": cents_to_str(row["revenue_cents"]),
            }
        )
        prev_key = (prev_first + timedelta(days=index)).isoformat()
        prev_days.append({"day": prev_key, **prev_by_day.get(prev_key, empty)})
    return {
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "previous_first_day": prev_first.isoformat(),
        "previous_last_day": (first_day - timedelta(days=1)).isoformat(),
        "rows": [day for day in days if day["orders"]],
        "data": {
            "days": [d["day"] for d in days],
            "orders": [d["orders"] for d in days],
            "units": [d["quantity"] for d in days],
            "revenue": [_amount(d["revenue_cents"]) for d in days],
            "previous_days": [d["day"] for d in prev_days],
            "previous_orders": [d["orders"] for d in prev_days],
            "previous_units": [d["quantity"] for d in prev_days],
            "previous_revenue": [_amount(d["revenue_cents"]) for d in prev_days],
        },
    }


def bar_chart(rows: list[dict], *, label: str, title: str) -> dict:
    """Revenue per product or category, largest first, for a horizontal bar chart."""
    bars = [
        {
            "label": str(row[label]) or "(unnamed)",
            "quantity": row["quantity"],
            "revenue_cents": row["revenue_cents"],
            "revenue": cents_to_str(row["revenue_cents"]),
        }
        for row in rows
    ]
    return {
        "title": title,
        "bars": bars,
        "data": {
            "labels": [bar["label"] for bar in bars],
            "units": [bar["quantity"] for bar in bars],
            "revenue": [_amount(bar["revenue_cents"]) for bar in bars],
        },
    }
