"""Dashboard page "Sales": totals, per-day chart, top products/categories, customer lookup.

Charts are SVG drawn on the server from the same stats functions as the API: no script or asset
from the network, and each chart has a <title>/<desc> and a data table for screen readers.
"""

from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sessions_app.permissions import staff_required
from shopsite.csv_export import csv_link, csv_response, wants_csv_page
from shopsite.money import cents_to_str
from shopsite.timeutil import utcnow

from . import stats
from .exports import SALES_HEADERS, sales_rows

TOP_ROWS = 10
RECENT_ORDERS = 10
MAX_DAYS = 3660


class SalesForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
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


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@require_GET
@staff_required
def sales_dashboard(request):
    today = utcnow().date()
    initial = {"start": today - timedelta(days=29), "end": today}
    form = SalesForm({**{k: v.isoformat() for k, v in initial.items()}, **request.GET.dict()})
    context = {"form": form}
    if not form.is_valid():
        return render(request, "orders/sales.html", context, status=400)

    first_day, last_day = form.cleaned_data["start"], form.cleaned_data["end"]
    start, end = _midnight(first_day), _midnight(last_day + timedelta(days=1))
    if wants_csv_page(request):
        return _sales_csv(request, start, end, f"{first_day}_{last_day}")
    totals = stats.sold_totals(start, end)
    days = stats.sold_breakdown(start, end, "day")
    products = stats.sold_breakdown(start, end, "product", limit=TOP_ROWS)
    categories = stats.sold_breakdown(start, end, "category", limit=TOP_ROWS)
    context.update(
        start=start,
        end=end,
        totals={**totals, "revenue": cents_to_str(totals["revenue_cents"])},
        day_chart=day_chart(days, first_day, last_day),
        product_chart=bar_chart(products, label="name", title="Top products by revenue"),
        category_chart=bar_chart(categories, label="category", title="Top categories by revenue"),
        csv_urls={table: csv_link(request, table=table) for table in CSV_TABLES},
        top_customers=[
            {**row, "revenue": cents_to_str(row["revenue_cents"])}
            for row in stats.top_customers(start, end, limit=TOP_ROWS)
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


# Chart geometry (SVG user units).
WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 72, 16, 44


def _nice_max(value: int) -> int:
    """A round axis maximum >= value (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 1
    while power * 10 < value:
        power *= 10
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def day_chart(rows: list[dict], first_day: date, last_day: date) -> dict:
    """Units (bars, left axis) and revenue (line, right axis) for every day of the range."""
    by_day = {row["day"]: row for row in rows}
    count = (last_day - first_day).days + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / count
    max_units = _nice_max(max((row["quantity"] for row in rows), default=0))
    max_cents = _nice_max(max((row["revenue_cents"] for row in rows), default=0))
    bars, points = [], []
    for index in range(count):
        key = (first_day + timedelta(days=index)).isoformat()
        row = by_day.get(key, {"orders": 0, "quantity": 0, "revenue_cents": 0})
        x = LEFT + index * slot
        height = plot_h * row["quantity"] / max_units
        bars.append(
            {
                "x": round(x + slot * 0.1, 2),
                "y": round(TOP + plot_h - height, 2),
                "width": round(max(slot * 0.8, 0.5), 2),
                "height": round(height, 2),
                "day": key,
                "orders": row["orders"],
                "quantity": row["quantity"],
                "revenue": cents_to_str(row["revenue_cents"]),
            }
        )
        y = TOP + plot_h - plot_h * row["revenue_cents"] / max_cents
        points.append(f"{x + slot / 2:.2f},{y:.2f}")
    ticks = []
    for fraction in (0, 0.5, 1):
        ticks.append(
            {
                "y": round(TOP + plot_h - plot_h * fraction, 2),
                "units": _tick_label(max_units * fraction),
                "revenue": cents_to_str(round(max_cents * fraction)),
            }
        )
    labels_at = sorted({0, count // 2, count - 1})
    x_labels = [
        {
            "x": round(LEFT + (i + 0.5) * slot, 2),
            "text": (first_day + timedelta(days=i)).isoformat(),
        }
        for i in labels_at
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right_x": WIDTH - RIGHT,
        "top": TOP,
        "bottom_y": TOP + plot_h,
        "label_y": TOP + plot_h + 18,
        "bars": bars,
        "points": " ".join(points),
        "ticks": ticks,
        "x_labels": x_labels,
        "rows": [bar for bar in bars if bar["orders"]],
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
    }


def _tick_label(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


BAR_ROW, BAR_LABEL_W, BAR_VALUE_W = 26, 220, 110


def bar_chart(rows: list[dict], *, label: str, title: str) -> dict:
    """Horizontal bars of revenue, largest first, labelled with the name and the amount."""
    top = max((row["revenue_cents"] for row in rows), default=0) or 1
    plot_w = WIDTH - BAR_LABEL_W - BAR_VALUE_W
    bars = []
    for index, row in enumerate(rows):
        text = str(row[label]) or "(unnamed)"
        width = plot_w * row["revenue_cents"] / top
        bars.append(
            {
                "y": index * BAR_ROW + 4,
                "text_y": index * BAR_ROW + 4 + BAR_ROW * 0.55,
                "width": round(max(width, 1), 2),
                "label": text,
                "short": text if len(text) <= 30 else text[:29] + "…",
                "quantity": row["quantity"],
                "revenue": cents_to_str(row["revenue_cents"]),
                "value_x": round(BAR_LABEL_W + width + 6, 2),
            }
        )
    return {
        "title": title,
        "width": WIDTH,
        "height": max(len(rows), 1) * BAR_ROW + 8,
        "label_w": BAR_LABEL_W,
        "label_x": BAR_LABEL_W - 8,
        "bars": bars,
    }
