"""Dashboard pages: the rate-limited sign-in and the admins' "Sessions" page."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .forms import RateLimitedAuthenticationForm
from .permissions import admin_required


class DashboardLoginView(LoginView):
    form_class = RateLimitedAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


@require_GET
@admin_required
def sessions_page(request):
    sessions = selectors.sessions_all()
    ids = [int(s.user_id) for s in sessions if s.user_id.isdigit()]
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    rows = [
        {
            "user_id": s.user_id,
            "username": names.get(int(s.user_id)) if s.user_id.isdigit() else None,
            "login_time": s.login_time,
            "last_active": s.last_active,
            "expires_in": s.expires_in,
            "is_you": s.user_id == str(request.user.pk),
        }
        for s in sessions
    ]
    return render(request, "sessions_app/sessions.html", {"rows": rows})


@require_POST
@admin_required
def session_end_view(request, user_id: str):
    try:
        services.session_delete_for(actor=request.user, user_id=user_id)
    except services.SessionNotFound:
        messages.info(request, f"User {user_id} had no active session.")
    else:
        messages.success(request, f"Session of user {user_id} ended.")
    return redirect("dashboard-sessions")
