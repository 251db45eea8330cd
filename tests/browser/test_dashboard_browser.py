"""The dashboard in a real browser: headless Chromium against the live test server."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_home_and_navigation(visitor, staff_user):
    page = visitor.page
    visitor.goto("/dashboard/")
    assert page.url.startswith(visitor.base_url + "/accounts/login/")
    visitor.snap("01-login")

    visitor.login("staff")
    assert page.get_by_role("heading", name="Shop overview").is_visible()
    current = page.locator('nav[aria-label="Main"] a[aria-current="page"]')
    assert current.inner_text() == "Home"
    for panel in ("#panel-sales", "#panel-low-stock", "#panel-events", "#panel-health"):
        assert page.locator(panel).is_visible()
    # Staff (not admin) see no admin sections.
    assert page.locator('nav a[href="/dashboard/backups/"]').count() == 0
    visitor.snap("02-home")
    assert visitor.external == []
