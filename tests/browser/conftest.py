"""Headless Debian Chromium driven by Playwright against a live server started by the tests.

The server is pytest-django's `live_server` (this process, the test run's own databases; static
files through Django's static handler). Every page a test visits is screenshotted under
test-artifacts/screenshots/, and its bytes transferred are added up for the page-weight report.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API keeps an event loop in this thread; Django's ORM (fixtures, the live
# server's shared in-memory test database) is still used synchronously and safely here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SHOPSITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
WEIGHTS_FILE = ARTIFACTS / "page-weights.json"
TOOLS_DIR = Path("/var/tmp/shopsite-cache/bin")
PASSWORDS = {"staff": "staff-pass-123", "admin": "admin-pass-123"}


def _page_weights() -> dict:
    if WEIGHTS_FILE.exists():
        return json.loads(WEIGHTS_FILE.read_text())
    return {}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/services.sh install (apt package chromium)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Visitor:
    """One browser tab with helpers: go to a page, sign in, screenshot, weigh what was loaded."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.external: list[str] = []
        self._responses: list = []
        page.on("response", lambda response: self._responses.append(response))
        page.on("request", self._check_origin)

    def _check_origin(self, request) -> None:
        url = request.url
        if not (url.startswith(self.base_url) or url.startswith(("data:", "about:"))):
            self.external.append(url)

    def goto(self, path: str):
        self._responses.clear()
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def transferred_bytes(self) -> int:
        """Bytes of the responses since the last navigation (headers + body as sent)."""
        total = 0
        for response in self._responses:
            sizes = response.request.sizes()
            total += sizes["responseHeadersSize"] + max(sizes["responseBodySize"], 0)
        return total

    def snap(self, name: str, mask: list | None = None) -> Path:
        """Screenshot of the whole page, and its weight recorded under the same name."""
        self.page.wait_for_load_state("networkidle")
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True, mask=mask or [])
        weights = _page_weights()
        weights[name] = {
            "path": self.page.url.replace(self.base_url, ""),
            "bytes": self.transferred_bytes(),
        }
        WEIGHTS_FILE.write_text(json.dumps(weights, indent=2, sort_keys=True))
        return path

    def login(self, username: str, password: str | None = None) -> None:
        self.goto("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password or PASSWORDS[username])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(f"{self.base_url}/dashboard/")


@pytest.fixture
def backends(mongo, redis_client, cassandra_keyspace, settings, monkeypatch):
    """The real stores, emptied, and the backup tools wherever the machine has them."""
    from eventlog.manager import get_log_manager

    get_log_manager().truncate()
    for name in ("mongodump", "mongorestore"):
        path = shutil.which(name) or str(TOOLS_DIR / name)
        setattr(settings, f"{name.upper()}_BIN", path)
        monkeypatch.setenv(f"{name.upper()}_BIN", path)
    return mongo


@pytest.fixture
def visitor(browser, live_server, backends):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Visitor(page, live_server.url)
    context.close()


@pytest.fixture
def phone(browser, live_server, backends):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Visitor(page, live_server.url)
    context.close()
