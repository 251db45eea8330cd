"""Dashboard page "Event log": what happened lately, every type, newest first (paged), narrowed
by types, user, period or subject (an order's or a product's id); edit an entry's metadata, and
(admins) purge entries older than N days after a confirmation."""

import re
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods

from sessions_app.permissions import admin_required, staff_required, user_is_admin
from shopsite.timeutil import iso, parse_iso

from . import selectors, services
from .exceptions import LogEntryNotFound
from .serializers import DAYS_MAX, event_type_validator

PAGE_SIZE = 50
TYPES_MAX = 20
DEFAULT_HOURS = 1
PERIODS = [
    (1, "last hour"),
    (6, "last 6 hours"),
    (24, "last 24 hours"),
    (168, "last 7 days"),
    (720, "last 30 days"),
    (8760, "last year"),
]
ABOUT_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class EventTypesField(forms.MultipleChoiceField):
    """Several event types; any well-formed type is accepted, not only the listed ones (the
    list is the registry's recent types; a link may name an older one)."""

    def valid_value(self, value) -> bool:
        return True

    def validate(self, value) -> None:
        super().validate(value)
        if len(value) > TYPES_MAX:
            raise forms.ValidationError(f"At most {TYPES_MAX} types.")
        for item in value:
            event_type_validator(item)


class EventFilterForm(forms.Form):
    type = EventTypesField(
        label="Types",
        required=False,
        help_text="None selected: every type.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    # The single-type parameter of earlier links (and the edit page's way back).
    event_type = forms.CharField(
        required=False, max_length=100, strip=False, validators=[event_type_validator]
    )
    user = forms.CharField(
        label="User",
        required=False,
        max_length=200,
        help_text="A user name or an event's user id.",
    )
    hours = forms.TypedChoiceField(
        label="Period", choices=PERIODS, coerce=int, initial=DEFAULT_HOURS, required=False
    )
    about = forms.CharField(
        label="About (order or product id)",
        required=False,
        max_length=100,
    )
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, known_types: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        chosen = self.data.getlist("type") if hasattr(self.data, "getlist") else []
        choices = sorted(set(known_types) | {t for t in chosen if isinstance(t, str)})
        self.fields["type"].choices = [(t, t) for t in choices]

    def clean_hours(self) -> int:
        return self.cleaned_data.get("hours") or DEFAULT_HOURS

    def clean_about(self) -> str | None:
        value = self.cleaned_data.get("about") or ""
        if value and not ABOUT_RE.match(value):
            raise forms.ValidationError("An order or product id: letters, digits, _ or -.")
        return value or None

    def clean_user(self) -> str | None:
        """A site user's name means that user's id; anything else is an event's user id."""
        value = (self.cleaned_data.get("user") or "").strip()
        if not value:
            return None
        if not value.isdigit():
            user = get_user_model().objects.filter(username=value).first()
            if user is not None:
                return str(user.pk)
        return value

    def clean_before(self) -> tuple[datetime, object] | None:
        """Page cursor: "<timestamp>_<event_id>" of the last entry read."""
        value = self.cleaned_data.get("before") or ""
        if not value:
            return None
        stamp, _, event_id = value.rpartition("_")
        parsed_id = services.parse_event_id(event_id)
        try:
            ts = parse_iso(stamp)
        except ValueError:
            ts = None
        if ts is None or parsed_id is None:
            raise forms.ValidationError("Bad page cursor.")
        return ts, parsed_id

    def types(self) -> list[str]:
        data = self.cleaned_data
        return sorted(set(data["type"]) | ({data["event_type"]} if data["event_type"] else set()))


class MetadataForm(forms.Form):
    metadata = forms.CharField(
        label="Metadata",
        required=False,
        strip=False,
        max_length=services.METADATA_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )


class PurgeForm(forms.Form):
    days = forms.IntegerField(label="Older than (days)", min_value=1, max_value=DAYS_MAX, initial=7)


@require_GET
@staff_required
def events_page(request):
    form = EventFilterForm(request.GET, known_types=selectors.event_types_known(days=31))
    context = {
        "form": form,
        "purge_form": PurgeForm() if user_is_admin(request.user) else None,
    }
    if not form.is_valid():
        return render(request, "eventlog/events.html", context, status=400)
    data = form.cleaned_data
    types = form.types()
    page = selectors.events_browse(
        hours=data["hours"],
        limit=PAGE_SIZE,
        types=types,
        user_id=data["user"],
        about=data["about"],
        before=data["before"],
    )
    user_ids = [e.user_id for e in page.entries] + ([data["user"]] if data["user"] else [])
    names = selectors.user_names(user_ids)
    query = [("type", t) for t in types] + [("hours", data["hours"])]
    if data["user"]:
        query.append(("user", data["user"]))
    if data["about"]:
        query.append(("about", data["about"]))
    cursor = page.cursor
    context.update(
        entries=page.entries,
        rows=[{"entry": e, "user_name": names.get(e.user_id)} for e in page.entries],
        types=types,
        user_filter=data["user"],
        user_filter_name=names.get(data["user"] or ""),
        about=data["about"],
        hours=data["hours"],
        period=dict(PERIODS)[data["hours"]],
        truncated=page.truncated,
        scan_max=selectors.SCAN_MAX,
        base_query=urlencode([("hours", data["hours"])]),
        first_url=f"?{urlencode(query)}",
        next_url=(
            f"?{urlencode([*query, ('before', f'{iso(cursor[0])}_{cursor[1]}')])}"
            if cursor
            else None
        ),
        paged=data["before"] is not None,
        here=request.get_full_path(),
    )
    return render(request, "eventlog/events.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def event_edit(request, event_id):
    try:
        entry = services.log_get(event_id=event_id)
    except LogEntryNotFound:
        raise Http404("Log entry not found.")
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or f"/dashboard/events/?{urlencode({'type': entry.event_type, 'hours': 8760})}"
    if request.method == "POST":
        form = MetadataForm(request.POST)
        if form.is_valid():
            try:
                services.log_update_metadata(
                    event_id=event_id, metadata=form.cleaned_data["metadata"]
                )
            except LogEntryNotFound:  # deleted (purged) since the page was shown
                raise Http404("Log entry not found.")
            messages.success(request, "Metadata saved.")
            return redirect(back)
        status = 400
    else:
        form = MetadataForm(initial={"metadata": entry.metadata or ""})
        status = 200
    context = {"entry": entry, "form": form, "next": back}
    return render(request, "eventlog/edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def events_purge(request):
    """GET: how many entries would go (the confirmation). POST: delete them."""
    form = PurgeForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return render(request, "eventlog/purge_confirm.html", {"form": form}, status=400)
    days = form.cleaned_data["days"]
    if request.method == "POST":
        deleted = services.log_delete_older_than(days=days, user_id=request.user.pk)
        messages.success(request, f"Deleted {deleted} log entries older than {days} days.")
        return redirect("dashboard-events")
    count = services.log_count_older_than(days=days)
    return render(
        request, "eventlog/purge_confirm.html", {"form": form, "days": days, "count": count}
    )
