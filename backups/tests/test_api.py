"""The backups API: admins only; start in the background, poll, download, restore."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from backups import repository, selectors, services
from backups.exceptions import BackupError

from .conftest import seed, snapshot, wait_for

pytestmark = pytest.mark.django_db


def wait_status(client, name, path="", timeout=60):
    def done():
        body = client.get(f"/backups/{name}/{path}").json()
        return body if body["status"] != "running" else None

    return wait_for(done, timeout=timeout)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/backups/"),
        ("post", "/backups/"),
        ("get", "/backups/mongo-20260101-000000-000/"),
        ("get", "/backups/mongo-20260101-000000-000/download/"),
        ("post", "/backups/mongo-20260101-000000-000/restore/"),
        ("get", "/backups/mongo-20260101-000000-000/restore/"),
    ],
)
def test_admin_only(method, path, anon_client, staff_client, backup_dir):
    assert getattr(anon_client, method)(path).status_code == 401
    response = getattr(staff_client, method)(path)
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin access required."}
    assert list(backup_dir.iterdir()) == []  # nothing started


def test_start_poll_list_download(admin_client, admin_user, mongo, backup_dir):
    seed(mongo, orders=20, products=4)
    response = admin_client.post("/backups/")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "running" and repository.valid_name(body["name"])
    name = body["name"]

    done = wait_status(admin_client, name)
    assert done["status"] == "ok", done
    # Empty collections (the purchase journal) are listed too.
    collections = {name: n for name, n in done["collections"].items() if n}
    assert collections == {"orders": 20, "products": 4} and done["documents"] == 24
    assert done["started_by"] == str(admin_user.pk)
    assert done["created_at"].endswith("Z") and done["error"] is None

    listing = admin_client.get("/backups").json()  # no trailing slash: same answer
    assert [b["name"] for b in listing] == [name]
    assert {"name", "created_at", "size_bytes", "status"} <= set(listing[0])
    assert listing[0]["size_bytes"] == repository.archive_path(name).stat().st_size

    download = admin_client.get(f"/backups/{name}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/gzip"
    assert f'filename="{name}.archive.gz"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == repository.archive_path(name).read_bytes()


def test_list_is_newest_first_and_shows_failures(admin_client, mongo, backup_dir, settings):
    seed(mongo, orders=2, products=1)
    first = services.backup_run()["name"]
    settings.MONGODB_URI = "mongodb://u:pw-secret@127.0.0.1:1/?serverSelectionTimeoutMS=500"
    with pytest.raises(BackupError):
        services.backup_run()
    listing = admin_client.get("/backups/").json()
    assert [b["status"] for b in listing] == ["failed", "ok"]
    assert listing[1]["name"] == first
    assert "mongodump exited" in listing[0]["error"] and "pw-secret" not in listing[0]["error"]
    assert listing[0]["size_bytes"] is None
    detail = admin_client.get(f"/backups/{listing[0]['name']}").json()
    assert detail["status"] == "failed" and detail["error"] == listing[0]["error"]
    conflict = admin_client.get(f"/backups/{listing[0]['name']}/download/")
    assert conflict.status_code == 409


def test_background_failure_is_reported(admin_client, mongo, backup_dir, monkeypatch):
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500")
    name = admin_client.post("/backups/").json()["name"]
    done = wait_status(admin_client, name)
    assert done["status"] == "failed" and "mongodump exited with status" in done["error"]


@pytest.mark.parametrize(
    "name",
    [
        "nope",
        "mongo-20260101-000000-000",
        "..",
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "mongo-20260101-000000-000.json",
        ".lock",
        "restore.json",
        "mongo-20260101-000000-000%00",
    ],
)
def test_unknown_and_traversal_names_are_404(admin_client, backup_dir, name):
    (backup_dir / "restore.json").write_text("{}")
    for suffix in ("", "download/", "restore/"):
        assert admin_client.get(f"/backups/{name}/{suffix}").status_code == 404, suffix
    assert admin_client.post(f"/backups/{name}/restore/").status_code == 404


def test_restore_via_api(admin_client, mongo, backup_dir):
    seed(mongo, orders=10, products=3)
    before = snapshot(mongo)
    name = services.backup_run()["name"]
    mongo.orders.delete_many({})
    mongo.products.update_many({}, {"$set": {"stock": 0}})

    assert admin_client.get(f"/backups/{name}/restore/").status_code == 404  # never restored
    response = admin_client.post(f"/backups/{name}/restore")
    assert response.status_code == 202
    assert response.json() == {"name": name, "status": "running"}
    done = wait_status(admin_client, name, "restore/")
    assert done["status"] == "ok", done
    assert done["collections"] == {"orders": 10, "products": 3}
    assert snapshot(mongo) == before


def test_restore_of_altered_backup_is_409_and_touches_nothing(admin_client, mongo, backup_dir):
    seed(mongo, orders=5, products=2)
    name = services.backup_run()["name"]
    mongo.orders.delete_many({})
    path = repository.archive_path(name)
    path.write_bytes(path.read_bytes()[:-10])
    response = admin_client.post(f"/backups/{name}/restore/")
    assert response.status_code == 409
    assert "altered or truncated" in response.json()["detail"]
    assert mongo.orders.count_documents({}) == 0
    assert selectors.restore_status() is None


def test_restore_while_one_runs_is_409(admin_client, mongo, backup_dir):
    seed(mongo, orders=2, products=1)
    name = services.backup_run()["name"]
    with repository.directory_lock(5):  # the restore waits behind this "backup"
        assert admin_client.post(f"/backups/{name}/restore/").status_code == 202
        second = admin_client.post(f"/backups/{name}/restore/")
        assert second.status_code == 409
        assert "already running" in second.json()["detail"]
    assert wait_status(admin_client, name, "restore/")["status"] == "ok"


def test_schema_documents_the_backup_endpoints():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/backups/"])
    assert "202" in paths["/backups/"]["post"]["responses"]
    restore = paths["/backups/{name}/restore/"]
    assert "202" in restore["post"]["responses"] and "409" in restore["post"]["responses"]
    assert "200" in paths["/backups/{name}/download/"]["get"]["responses"]
