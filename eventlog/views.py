"""Dashboard page "Event log": browse one type over a period (newest first, paged), edit an
entry's metadata, and (admins) purge entries older than N days after a confirmation."""

from datetime import datetime

from django import forms
from django.contrib import messages
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
PERIODS = [
    (1, "last hour"),
    (6, "last 6 hours"),
    (24, "last 24 hours"),
    (168, "last 7 days"),
    (720, "last 30 days"),
    (8760, "last year"),
]


class EventFilterForm(forms.Form):
    event_type = forms.CharField(
        label="Event type", max_length=100, strip=False, validators=[event_type_validator]
    )
    hours = forms.TypedChoiceField(label="Period", choices=PERIODS, coerce=int, initial=24)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_before(self) -> tuple[datetime, object] | None:
        """Page cursor: "<timestamp>_<event_id>" of the last entry shown."""
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
    form = EventFilterForm(request.GET or None, initial={"hours": 24})
    context = {
        "form": form,
        "known_types": selectors.event_types_known(),
        "purge_form": PurgeForm() if user_is_admin(request.user) else None,
    }
    if not request.GET:
        return render(request, "eventlog/events.html", context)
    if not form.is_valid():
        return render(request, "eventlog/events.html", context, status=400)
    data = form.cleaned_data
    entries = services.log_recent(
        event_type=data["event_type"],
        hours=data["hours"],
        limit=PAGE_SIZE + 1,
        before=data["before"],
    )
    page, more = entries[:PAGE_SIZE], len(entries) > PAGE_SIZE
    query = {"event_type": data["event_type"], "hours": data["hours"]}
    context.update(
        entries=page,
        first_url=f"?{urlencode(query)}",
        next_url=(
            f"?{urlencode({**query, 'before': f'{iso(page[-1].timestamp)}_{page[-1].event_id}'})}"
            if more
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
    back = (
        back or f"/dashboard/events/?{urlencode({'event_type': entry.event_type, 'hours': 8760})}"
    )
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
