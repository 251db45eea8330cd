"""Dashboard (cookie) logins get a SessionManager session too; logging out ends it.

A session carries its user's rights (see manager.py), so every change to them updates or ends
the user's session here: saving a user (staff, superuser, active, username), changing group
membership from either side, renaming or deleting a group, deleting a user.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import services
from .dashboard_binding import bind, bound_token_hash

User = get_user_model()
# Fields a session's claims depend on; a save touching none of them (last_login) changes nothing.
_CLAIM_FIELDS = frozenset({"username", "is_staff", "is_superuser", "is_active"})
_MEMBERS = "_shopsite_session_members"


@receiver(user_logged_in, dispatch_uid="sessions_app.start_on_login")
def start_session_on_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    bind(request, services.session_start(user=user, via="dashboard_login"))


@receiver(user_logged_out, dispatch_uid="sessions_app.end_on_logout")
def end_session_on_logout(sender, request, user, **kwargs):
    if request is None or user is None or not hasattr(request, "session"):
        return
    digest = bound_token_hash(request)
    if digest:
        # Only the session this browser holds: a newer one (e.g. an API login) stays.
        services.session_end(user_id=user.pk, only_token_hash=digest)


@receiver(post_save, sender=User, dispatch_uid="sessions_app.user_saved")
def user_saved(sender, instance, created, update_fields=None, raw=False, **kwargs):
    if created or raw or (update_fields is not None and not _CLAIM_FIELDS & set(update_fields)):
        return
    services.session_rights_update(user=instance)


@receiver(post_delete, sender=User, dispatch_uid="sessions_app.user_deleted")
def user_deleted(sender, instance, **kwargs):
    services.session_end(user_id=instance.pk)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="sessions_app.groups_changed")
def groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:  # user.groups.add/remove/clear/set
        if action in ("post_add", "post_remove", "post_clear"):
            services.session_rights_update(user=instance)
        return
    # group.user_set.add/remove/clear: instance is the group, pk_set the users
    if action == "pre_clear":
        setattr(instance, _MEMBERS, list(instance.user_set.values_list("pk", flat=True)))
    elif action in ("post_add", "post_remove"):
        _update_users(pk_set)
    elif action == "post_clear":
        _update_users(getattr(instance, _MEMBERS, ()))


@receiver(post_save, sender=Group, dispatch_uid="sessions_app.group_saved")
def group_saved(sender, instance, created, raw=False, **kwargs):
    if not created and not raw:  # a rename may make its members admins or take that away
        _update_users(instance.user_set.values_list("pk", flat=True))


@receiver(pre_delete, sender=Group, dispatch_uid="sessions_app.group_deleting")
def group_deleting(sender, instance, **kwargs):
    setattr(instance, _MEMBERS, list(instance.user_set.values_list("pk", flat=True)))


@receiver(post_delete, sender=Group, dispatch_uid="sessions_app.group_deleted")
def group_deleted(sender, instance, **kwargs):
    _update_users(getattr(instance, _MEMBERS, ()))


def _update_users(user_ids) -> None:
    for user in User.objects.filter(pk__in=list(user_ids or ())):
        services.session_rights_update(user=user)
