"""Dashboard paging (shopsite.pagination.page_of): Django's Paginator over a skip/limit read."""

from django.test import RequestFactory

from shopsite.pagination import page_of

ROWS = list(range(23))


def page(query: str) -> tuple[dict, list]:
    calls = []

    def fetch(skip, limit):
        calls.append((skip, limit))
        return ROWS[skip : skip + limit]

    request = RequestFactory().get("/dashboard/x/" + query)
    return page_of(request, count=len(ROWS), fetch=fetch, page_size=10), calls


def test_a_middle_page_reads_one_slice_and_links_keep_the_filters():
    context, calls = page("?q=mug&page=2")
    assert calls == [(10, 10)]
    assert context["items"] == ROWS[10:20]
    assert (context["page"], context["pages"], context["count"]) == (2, 3, 23)
    assert context["previous_url"] == "?q=mug&page=1"
    assert context["next_url"] == "?q=mug&page=3"


def test_the_last_page_is_short_and_has_no_next():
    context, calls = page("?page=3")
    assert calls == [(20, 3)] and context["next_url"] is None


def test_not_a_number_is_the_first_page_and_past_the_end_the_last():
    assert page("?page=x")[0]["page"] == 1
    assert page("")[0]["previous_url"] is None
    assert page("?page=99")[0]["page"] == 3


def test_no_rows_is_one_empty_page():
    request = RequestFactory().get("/dashboard/x/")
    context = page_of(request, count=0, fetch=lambda skip, limit: [], page_size=10)
    assert (context["items"], context["page"], context["pages"]) == ([], 1, 1)
