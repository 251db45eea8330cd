"""A session carries its user's rights: bearer requests need no SQL, and rights changes apply
to the next request (they update or end the user's session)."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.test import APIClient

from sessions_app import services
from sessions_app.authentication import BearerTokenAuthentication, SessionUser
from sessions_app.manager import SessionManager, get_session_manager
from sessions_app.permissions import ADMINS_GROUP

pytestmark = pytest.mark.django_db


def url(user_id) -> str:
    return f"/session/{user_id}/"


def login(username: str, password: str) -> APIClient:
    response = APIClient().post(
        "/auth/login/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['session_token']}")
    return client


def admins() -> Group:
    return Group.objects.get_or_create(name=ADMINS_GROUP)[0]


def test_bearer_request_issues_no_sql(staff_user, redis_client, django_assert_num_queries):
    client = login("staff", "staff-pass-123")
    with django_assert_num_queries(0):
        assert client.put(url(staff_user.pk)).status_code == 200
        assert client.get(url(staff_user.pk + 1)).status_code == 403


def test_admin_check_issues_no_sql(admin_user, staff_user, redis_client, django_assert_num_queries):
    client = login("admin", "admin-pass-123")  # an admin by group membership, not a superuser
    with django_assert_num_queries(0):
        assert client.get(url(staff_user.pk)).status_code == 404  # allowed: no session yet


def test_session_without_claims_reads_them_once(
    staff_user, redis_client, django_assert_num_queries
):
    # A session written before sessions carried claims (e.g. by an older release).
    token = SessionManager().create(staff_user.pk).session_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(url(staff_user.pk)).status_code == 200
    assert redis_client.hget(f"session:{staff_user.pk}", "is_staff") == "1"
    with django_assert_num_queries(0):
        assert client.get(url(staff_user.pk)).status_code == 200


def test_request_user_is_built_from_the_session(staff_user, redis_client):
    session = get_session_manager().create(staff_user.pk, services.user_claims(staff_user))
    request = type("R", (), {"META": {"HTTP_AUTHORIZATION": f"Bearer {session.session_token}"}})
    user, auth = BearerTokenAuthentication().authenticate(request)
    assert isinstance(user, SessionUser)
    assert (user.pk, user.id, user.username) == (staff_user.pk, staff_user.pk, "staff")
    assert user.is_staff and not user.is_admin and user.is_authenticated and user.is_active
    assert user == staff_user and auth.user_id == str(staff_user.pk)


def test_removing_staff_rights_applies_to_the_next_request(staff_user, redis_client):
    client = login("staff", "staff-pass-123")
    assert client.get(url(staff_user.pk)).status_code == 200
    staff_user.is_staff = False
    staff_user.save()
    assert client.get(url(staff_user.pk)).status_code == 403


def test_leaving_admins_applies_to_the_next_request(admin_user, staff_user, redis_client):
    client = login("admin", "admin-pass-123")
    assert client.get(url(staff_user.pk)).status_code == 404
    admin_user.groups.remove(admins())
    assert client.get(url(staff_user.pk)).status_code == 403
    assert client.get(url(admin_user.pk)).status_code == 200  # still staff


@pytest.mark.parametrize("how", ["remove", "clear", "delete", "rename"])
def test_group_side_changes_take_admin_away(admin_user, staff_user, redis_client, how):
    client = login("admin", "admin-pass-123")
    group = admins()
    if how == "remove":
        group.user_set.remove(admin_user)
    elif how == "clear":
        group.user_set.clear()
    elif how == "delete":
        group.delete()
    else:
        group.name = "former-admins"
        group.save()
    assert client.get(url(staff_user.pk)).status_code == 403


def test_granted_rights_apply_once_committed(
    staff_user, other_staff_user, redis_client, django_capture_on_commit_callbacks
):
    client = login("staff", "staff-pass-123")
    assert client.get(url(other_staff_user.pk)).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        admins().user_set.add(staff_user)
    assert client.get(url(other_staff_user.pk)).status_code == 404  # now an admin
    with django_capture_on_commit_callbacks(execute=True):
        staff_user.groups.clear()
    assert client.get(url(other_staff_user.pk)).status_code == 403


def test_rolled_back_grant_grants_nothing(
    staff_user, other_staff_user, redis_client, django_capture_on_commit_callbacks
):
    client = login("staff", "staff-pass-123")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        staff_user.is_superuser = True
        staff_user.save()
        raise RuntimeError("the change fails after the save")
    assert client.get(url(other_staff_user.pk)).status_code == 403
    assert redis_client.hget(f"session:{staff_user.pk}", "is_admin") == "0"


def test_username_change_reaches_the_session(
    staff_user, redis_client, django_capture_on_commit_callbacks
):
    login("staff", "staff-pass-123")
    with django_capture_on_commit_callbacks(execute=True):
        staff_user.username = "renamed"
        staff_user.save()
    assert redis_client.hget(f"session:{staff_user.pk}", "username") == "renamed"


@pytest.mark.parametrize("how", ["deactivate", "delete"])
def test_deactivating_or_deleting_a_user_ends_their_sessions(staff_user, redis_client, how):
    client = login("staff", "staff-pass-123")
    pk = staff_user.pk
    if how == "deactivate":
        staff_user.is_active = False
        staff_user.save()
    else:
        staff_user.delete()
    assert get_session_manager().get(pk) is None
    assert client.get(url(pk)).status_code == 401


def test_last_login_update_leaves_the_session_alone(staff_user, redis_client):
    from django.contrib.auth.models import update_last_login

    client = login("staff", "staff-pass-123")
    redis_client.hset(f"session:{staff_user.pk}", "username", "marker")
    update_last_login(None, staff_user)
    assert redis_client.hget(f"session:{staff_user.pk}", "username") == "marker"
    assert client.get(url(staff_user.pk)).status_code == 200


def test_scripts_are_registered_once_per_client(redis_client):
    first, second = SessionManager(redis_client), SessionManager(redis_client)
    assert first._touch_by_token is second._touch_by_token
    assert get_session_manager() is get_session_manager()
