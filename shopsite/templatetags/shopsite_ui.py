"""Template helpers shared by the dashboard pages (documented atop static/shopsite/app.css).

{% load shopsite_ui %}
{% nav_link "/dashboard/products/" "Products" %}  <li><a aria-current="page"> on that section
{% sort_header "price" "Price" %}                 <th aria-sort><a href="?sort=price">
{% status_badge backup.status %}                  <span class="badge badge-ok">ok</span>
"""

from django import template
from django.utils.html import format_html
from django.utils.http import urlencode

register = template.Library()

_BADGES = {
    "ok": "ok",
    "done": "ok",
    "completed": "ok",
    "running": "running",
    "pending": "running",
    "queued": "running",
    "failed": "failed",
    "error": "failed",
    "degraded": "warn",
    "down": "failed",
}


def _section_active(path: str, href: str, exact: bool) -> bool:
    if exact:
        return path == href
    return path == href or path.startswith(href.rstrip("/") + "/")


@register.simple_tag(takes_context=True)
def nav_link(context, href: str, label: str, exact: bool = False):
    """A nav item; the link of the section the current page belongs to gets aria-current."""
    request = context.get("request")
    path = request.path if request is not None else ""
    if _section_active(path, href, exact):
        return format_html('<li><a href="{}" aria-current="page">{}</a></li>', href, label)
    return format_html('<li><a href="{}">{}</a></li>', href, label)


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str, param: str = "sort", num: bool = False):
    """A <th> whose link sorts by `field` (?sort=field, again for ?sort=-field), keeping the
    other query parameters except the page number (a new order starts on page 1). `num`: the
    column holds numbers (aligned right, as its cells)."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else {}
    current = query.get(param, "") if query else ""
    if current == field:
        state, next_value = "ascending", f"-{field}"
    elif current == f"-{field}":
        state, next_value = "descending", field
    else:
        state, next_value = None, field
    params = [(k, v) for k in query for v in query.getlist(k) if k not in (param, "page")]
    params.append((param, next_value))
    href = "?" + urlencode(params)
    css = "sortable num" if num else "sortable"
    if state:
        return format_html(
            '<th scope="col" class="{}" aria-sort="{}"><a href="{}">{}</a></th>',
            css, state, href, label,
        )  # fmt: skip
    return format_html('<th scope="col" class="{}"><a href="{}">{}</a></th>', css, href, label)


@register.simple_tag
def status_badge(status, label: str | None = None):
    """A coloured badge for ok / running / failed (anything else is neutral)."""
    kind = _BADGES.get(str(status).lower(), "muted")
    text = label if label is not None else status
    if kind == "running":
        return format_html('<span class="badge badge-running" aria-busy="true">{}</span>', text)
    return format_html('<span class="badge badge-{}">{}</span>', kind, text)
