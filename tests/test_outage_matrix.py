"""Outage matrix: with each backend stopped in turn, every endpoint and page answers promptly with
either its normal answer (when it does not need that backend) or a 503 naming the backend; never a
500, never a hang; and everything recovers when the backend is back, without a restart.

The table of what each endpoint did is written to test-artifacts/outage-matrix-<backend>.md.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests import servicectl

pytestmark = [pytest.mark.fault]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
MONGO, REDIS, CASSANDRA = "mongodb", "redis", "cassandra"
# Not a backend of the app's own: FerretDB stores in it, so its outage is MongoDB's.
POSTGRES = "postgres"


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    path: str
    body: dict | None = None
    needs: frozenset = frozenset()
    page: bool = False  # a dashboard page, fetched with the browser's cookie


def api(label, method, path, body=None, needs=()):
    # Bearer tokens live in Redis: every authenticated API call needs it.
    return Probe(label, method, path, body, frozenset(needs) | {REDIS})


def page(path, needs=()):
    # Django's session (the login cookie) lives in Redis too.
    return Probe(f"page {path}", "GET", path, None, frozenset(needs) | {REDIS}, page=True)


def probes(ids: dict) -> list[Probe]:
    pid, oid, eid, uid = ids["product"], ids["order"], ids["event"], ids["user"]
    return [
        Probe("GET /docs", "GET", "/docs"),
        page("/accounts/login/"),  # the login itself needs Redis (sessions, limits)
        api("GET /products/", "GET", "/products/?category=outage", needs={MONGO}),
        api(
            "POST /products/",
            "POST",
            "/products/",
            {"name": "During outage", "category": "outage", "price": "1.00", "stock": 1},
            needs={MONGO},
        ),
        api("GET /products/{id}/", "GET", f"/products/{pid}/", needs={MONGO}),
        api("PATCH /products/{id}/", "PATCH", f"/products/{pid}/", {"description": "x"}, {MONGO}),
        api("POST /products/{id}/stock/", "POST", f"/products/{pid}/stock/", {"delta": 1}, {MONGO}),
        api("DELETE /products/unavailable/", "DELETE", "/products/unavailable/", needs={MONGO}),
        api(
            "POST /orders/",
            "POST",
            "/orders/",
            {"customer": "Outage Olga", "items": [{"product_id": pid, "quantity": 1}]},
            needs={MONGO},
        ),
        api("GET /orders/recent/", "GET", "/orders/recent/", needs={MONGO}),
        api("GET /orders/?days=30", "GET", "/orders/?days=30", needs={MONGO}),
        api("GET /orders/{id}/", "GET", f"/orders/{oid}/", needs={MONGO}),
        api("GET /stats/sold/?by=day", "GET", "/stats/sold/?by=day", needs={MONGO}),
        api("GET /stats/customer/{name}", "GET", "/stats/customer/Outage%20Olga", needs={MONGO}),
        api("GET /session/{id}/", "GET", f"/session/{uid}/"),
        api("PUT /session/{id}/", "PUT", f"/session/{uid}/"),
        api(
            "POST /logs/",
            "POST",
            "/logs/",
            {"user_id": "u1", "event_type": "outage_probe"},
            needs={CASSANDRA},
        ),
        api("GET /logs/", "GET", "/logs/?event_type=outage_probe", needs={CASSANDRA}),
        api("PUT /logs/{id}/", "PUT", f"/logs/{eid}/", {"metadata": "edited"}, {CASSANDRA}),
        api("DELETE /logs/old/", "DELETE", "/logs/old/?days=3650", needs={CASSANDRA}),
        api("GET /backups/", "GET", "/backups/"),
        page("/dashboard/"),
        page("/dashboard/products/", needs={MONGO}),
        page("/dashboard/orders/", needs={MONGO}),
        page("/dashboard/sales/", needs={MONGO}),
        page("/dashboard/events/", needs={CASSANDRA}),
        page("/dashboard/sessions/"),
        page("/dashboard/backups/"),
    ]


# Bounded answer time during an outage: connect/server-selection timeouts plus slack.
LIMIT_SECONDS = settings.BACKEND_TIMEOUT_SECONDS * 2 + 3


def _send(client: APIClient, probe: Probe):
    kwargs = {"format": "json"} if probe.body is not None else {}
    if probe.page:
        kwargs["HTTP_ACCEPT"] = "text/html"
    started = time.perf_counter()
    response = getattr(client, probe.method.lower())(probe.path, probe.body, **kwargs)
    return response, time.perf_counter() - started


def _detail(response) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            return str(response.json().get("detail", ""))[:60]
        except (ValueError, AttributeError):
            return ""
    return ""


@pytest.fixture
def world(admin_user, mongo, redis_client, cassandra_keyspace):
    """An admin with a bearer token and a dashboard cookie, and one of each thing to address."""
    api_client = APIClient()
    login = api_client.post(
        "/auth/login/", {"username": "admin", "password": "admin-pass-123"}, format="json"
    )
    assert login.status_code == 200, login.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['session_token']}")
    product = api_client.post(
        "/products/",
        {"name": "Outage lamp", "category": "outage", "price": "5.00", "stock": 100},
        format="json",
    ).json()
    order = api_client.post(
        "/orders/",
        {"customer": "Outage Olga", "items": [{"product_id": product["id"], "quantity": 1}]},
        format="json",
    ).json()
    event = api_client.post(
        "/logs/", {"user_id": "u1", "event_type": "outage_probe"}, format="json"
    ).json()
    # One session per user: the dashboard login gets a user of its own, or it would replace
    # the API token's session.
    page_admin = User.objects.create_superuser("page-admin", "pa@example.com", "page-pass-123")
    page_client = APIClient()
    page_client.force_login(page_admin)
    # The test client re-raises any exception it saw signalled, even one that handler500 turned
    # into a 503; read the response a browser would get instead.
    page_client.raise_request_exception = False
    ids = {
        "product": product["id"],
        "order": order["id"],
        "event": event["event_id"],
        "user": str(admin_user.pk),
    }
    return api_client, page_client, ids


def _write_table(backend: str, rows: list[tuple]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [
        f"# {backend} stopped",
        "",
        "| endpoint | status | detail | seconds | after recovery |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {label} | {st} | {det} | {sec:.2f} | {rec} |" for label, st, det, sec, rec in rows
    ]
    (ARTIFACTS / f"outage-matrix-{backend}.md").write_text("\n".join(lines) + "\n")


def _wait_healthy(client: APIClient, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get("/healthz").status_code == 200:
            return
        time.sleep(0.5)
    raise AssertionError("backends did not recover")


@pytest.mark.parametrize("service", [MONGO, REDIS, CASSANDRA, POSTGRES])
def test_every_endpoint_answers_promptly_and_recovers(service, world):
    servicectl.require(service)
    backend = servicectl.app_backend(service)
    api_client, page_client, ids = world
    product_path = f"/products/{ids['product']}/"
    stock_before = api_client.get(product_path).json()["stock"]
    plan = probes(ids)
    results = {}
    failures = []

    with servicectl.stopped(service):
        health = api_client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()[backend]["ok"] is False
        for probe in plan:
            client = page_client if probe.page else api_client
            response, seconds = _send(client, probe)
            status = response.status_code
            results[probe.label] = (status, _detail(response), seconds)
            if status >= 500 and status != 503:
                failures.append(f"{probe.label}: {status}")
            if seconds > LIMIT_SECONDS:
                failures.append(f"{probe.label}: took {seconds:.1f}s")
            if backend in probe.needs and status != 503:
                failures.append(f"{probe.label}: {status}, expected 503 naming {backend}")
            if status == 503:
                if backend not in probe.needs:
                    failures.append(f"{probe.label}: 503 but does not need {backend}")
                if not probe.page:
                    assert response.json()["detail"] == f"{backend} unavailable", probe.label
                else:
                    assert f"{backend} unavailable" in response.content.decode(), probe.label

    _wait_healthy(api_client)
    stock_after = api_client.get(product_path).json()["stock"]
    rows = []
    for probe in plan:
        client = page_client if probe.page else api_client
        response, _ = _send(client, probe)
        if response.status_code >= 500:
            failures.append(f"{probe.label}: {response.status_code} after recovery")
        status, detail, seconds = results[probe.label]
        rows.append((probe.label, status, detail, seconds, response.status_code))
    _write_table(service, rows)

    # Stock is neither lost nor duplicated: only the successful restock and order moved it.
    expected = stock_before
    if results["POST /products/{id}/stock/"][0] == 200:
        expected += 1
    if results["POST /orders/"][0] == 201:
        expected -= 1
    assert stock_after == expected
    assert not failures, "\n".join(failures)
