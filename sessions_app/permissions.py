"""Roles: staff (is_staff) and admin (superuser or member of the `admins` group)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

ADMINS_GROUP = "admins"


def user_is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def user_is_admin(user) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    claimed = getattr(user, "is_admin", None)
    if claimed is not None:  # a bearer request's SessionUser: decided by the session's claims
        return claimed
    if user.is_superuser:
        return True
    return user.groups.filter(name=ADMINS_GROUP).exists()


class IsStaff(BasePermission):
    message = "Staff access required."

    def has_permission(self, request, view) -> bool:
        return user_is_staff(request.user) or user_is_admin(request.user)


class IsAdmin(BasePermission):
    message = "Admin access required."

    def has_permission(self, request, view) -> bool:
        return user_is_admin(request.user)


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Dashboard views: anonymous users get the login page, others without the role get 403.
staff_required = _role_required(lambda user: user_is_staff(user) or user_is_admin(user))
admin_required = _role_required(user_is_admin)
