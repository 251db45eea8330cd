"""The dashboard page "Backups": admins only, back up now (CSRF), htmx polling, download, restore
with a confirmation naming the backup and what it replaces."""

import re

import pytest
from django.test import Client

from backups import repository, selectors, services
from backups.exceptions import BackupError

from .conftest import seed, snapshot, wait_for

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/backups/"


def form_login(username, password) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def admin_browser(admin_user, redis_client):
    client = form_login("admin", "admin-pass-123")
    client.handler.enforce_csrf_checks = True  # from here on, as a browser: forms need the token
    return client


def csrf_from(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_page_is_for_admins_only(staff_user, redis_client, backup_dir):
    assert Client().get(PAGE).status_code == 302  # to the login page
    staff = form_login("staff", "staff-pass-123")
    assert staff.get(PAGE).status_code == 403
    assert staff.post("/dashboard/backups/run/").status_code == 403
    assert list(backup_dir.iterdir()) == []


def test_back_up_now_shows_running_then_done_by_polling(admin_browser, mongo, backup_dir):
    seed(mongo, orders=6, products=2)
    page = admin_browser.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Back up now" in html and "No backups yet." in html
    assert 'hx-trigger="every 2s"' not in html  # nothing running: no polling

    # Without the CSRF token the form is refused.
    assert admin_browser.post("/dashboard/backups/run/").status_code == 403
    response = admin_browser.post(
        "/dashboard/backups/run/", {"csrfmiddlewaretoken": csrf_from(html)}
    )
    assert response.status_code == 302 and response["Location"] == PAGE
    (name,) = repository.manifest_names()

    page = admin_browser.get(PAGE).content.decode()
    assert name in page and "started" in page
    if selectors.backup_get(name=name)["status"] == "running":
        assert 'hx-get="/dashboard/backups/table/"' in page
        assert 'hx-trigger="every 2s"' in page

    def polled_done():
        partial = admin_browser.get("/dashboard/backups/table/", HTTP_HX_REQUEST="true")
        assert partial.status_code == 200
        text = partial.content.decode()
        assert "<html" not in text  # the partial alone
        return text if 'data-status="running"' not in text else None

    text = wait_for(polled_done, timeout=60)
    assert f'data-name="{name}" data-status="ok"' in text
    assert "every 2s" not in text  # polling stops once done
    assert "orders: 6" in text and "products: 2" in text
    assert f"/dashboard/backups/{name}/download/" in text


def test_failed_backup_shows_its_error(admin_browser, mongo, backup_dir, settings):
    settings.MONGODB_URI = "mongodb://u:hidden-pw@127.0.0.1:1/?serverSelectionTimeoutMS=500"
    with pytest.raises(BackupError):
        services.backup_run()
    text = admin_browser.get("/dashboard/backups/table/").content.decode()
    assert 'data-status="failed"' in text and "mongodump exited with status" in text
    assert "hidden-pw" not in text


def test_running_backup_makes_the_table_poll(admin_browser, backup_dir):
    repository.manifest_write(
        "mongo-20260101-000000-000",
        {"status": "running", "created_at": "2099-01-01T00:00:00Z", "pid": None},
    )
    text = admin_browser.get("/dashboard/backups/table/").content.decode()
    assert 'hx-get="/dashboard/backups/table/"' in text and 'hx-trigger="every 2s"' in text
    assert "running…" in text


def test_download(admin_browser, mongo, backup_dir):
    seed(mongo, orders=2, products=1)
    name = services.backup_run()["name"]
    response = admin_browser.get(f"/dashboard/backups/{name}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == repository.archive_path(name).read_bytes()
    assert admin_browser.get("/dashboard/backups/../download/").status_code == 404
    assert (
        admin_browser.get("/dashboard/backups/mongo-20260101-000000-000/download/").status_code
        == 404
    )


def test_restore_confirmation_names_what_is_replaced(admin_browser, mongo, backup_dir):
    seed(mongo, orders=8, products=3)
    before = snapshot(mongo)
    name = services.backup_run()["name"]
    mongo.orders.delete_many({"quantity": 1})
    now_orders = mongo.orders.count_documents({})
    mongo.extra_notes.insert_one({"note": "not in the backup"})

    page = admin_browser.get(f"/dashboard/backups/{name}/restore/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Restore backup {name}?" in html
    assert re.search(rf"<code>orders</code></td><td>{now_orders}</td><td>8</td>", html)
    assert re.search(r"<code>products</code></td><td>3</td><td>3</td>", html)
    assert "left as they are: <code>extra_notes</code>" in html
    assert mongo.orders.count_documents({}) == now_orders  # looking changes nothing

    assert admin_browser.post(f"/dashboard/backups/{name}/restore/").status_code == 403  # CSRF
    response = admin_browser.post(
        f"/dashboard/backups/{name}/restore/", {"csrfmiddlewaretoken": csrf_from(html)}
    )
    assert response.status_code == 302 and response["Location"] == PAGE
    wait_for(lambda: (selectors.restore_status() or {}).get("status") == "ok", timeout=60)
    restored = snapshot(mongo)
    assert {k: restored[k] for k in ("orders", "products")} == before
    text = admin_browser.get("/dashboard/backups/table/").content.decode()
    assert f"Restore of <strong>{name}</strong>" in text and "done at" in text


def test_restore_of_altered_backup_is_refused_on_the_page(admin_browser, mongo, backup_dir):
    seed(mongo, orders=3, products=1)
    name = services.backup_run()["name"]
    path = repository.archive_path(name)
    data = bytearray(path.read_bytes())
    data[-30] ^= 0x01
    path.write_bytes(bytes(data))
    page = admin_browser.get(f"/dashboard/backups/{name}/restore/")
    assert page.status_code == 409
    assert "checksum does not match" in page.content.decode()
    assert admin_browser.get("/dashboard/backups/nope/restore/").status_code == 404
