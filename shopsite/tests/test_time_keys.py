"""Day and hour keys are compared as strings (summaries, order lists): the year is zero-padded,
so their order is the time order for every year a datetime can hold."""

from datetime import UTC, datetime

import pytest

from shopsite.timeutil import day_key, hour_key

MOMENTS = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(258, 7, 22, 3, tzinfo=UTC),
    datetime(999, 12, 31, 23, tzinfo=UTC),
    datetime(2026, 11, 30, 17, 59, tzinfo=UTC),
    datetime(9999, 12, 31, 23, tzinfo=UTC),
]


def test_keys_are_zero_padded_and_sort_as_time_does():
    assert [day_key(m) for m in MOMENTS[:2]] == ["0001-01-01", "0258-07-22"]
    assert hour_key(MOMENTS[1]) == "0258-07-22T03"
    assert hour_key(MOMENTS[3]) == "2026-11-30T17"
    for key in (day_key, hour_key):
        keys = [key(m) for m in MOMENTS]
        assert keys == sorted(keys)
    assert all(hour_key(m)[:10] == day_key(m) for m in MOMENTS)


@pytest.mark.usefixtures("mongo", "redis_client")
def test_sold_stats_over_a_window_starting_before_year_1000(staff_client):
    """Found by make fuzz (seed 1264812987): a 500, the hour key of year 258 was "258-07-22T20"
    (strftime does not pad the year) and could not be parsed back."""
    response = staff_client.get(
        "/stats/sold/?by=day&start=0258-07-22T20:10:10Z&end=0258-07-25T05:36:04Z"
    )
    assert response.status_code == 200, response.content
    assert response.json()["orders"] == 0
