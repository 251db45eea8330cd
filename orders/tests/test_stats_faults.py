"""Stats with MongoDB down: 503 naming it, for the API and the Sales page."""

import pytest

from tests import servicectl


@pytest.mark.fault
def test_stats_503_when_mongodb_is_down(mongo, staff_client, client, staff_user, redis_client):
    client.force_login(staff_user)
    with servicectl.stopped("mongodb"):
        for path in ("/stats/sold/?by=product", "/stats/customer/Bob"):
            response = staff_client.get(path)
            assert response.status_code == 503, path
            assert response.json() == {"detail": "mongodb unavailable"}
        page = client.get("/dashboard/sales/?customer=Bob")
        assert page.status_code == 503
        assert "mongodb" in page.content.decode().lower()
    assert staff_client.get("/stats/sold/").status_code == 200
