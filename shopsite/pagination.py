"""Page-number pagination over any store: the contract's {count, next, previous, results}.

Unlike DRF's paginator, an out-of-range page_size is a 400 (the contract: never clamp).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Paginator
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .query import QuerySerializer

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000_000  # keeps the skip within a store's 64-bit integer


class PageQuerySerializer(QuerySerializer):
    page = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE, default=1, help_text=f"Page number, 1-{MAX_PAGE}."
    )
    page_size = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        default=DEFAULT_PAGE_SIZE,
        help_text=f"Items per page, 1-{MAX_PAGE_SIZE}.",
    )


# The schema of ?page= and ?page_size= (extend_schema parameters).
PAGE_PARAMETERS = [PageQuerySerializer]


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.page_size


def page_request(request) -> PageRequest:
    query = PageQuerySerializer(data=request.query_params)
    if not query.is_valid():
        raise ValidationError(query.errors)
    return PageRequest(query.validated_data["page"], query.validated_data["page_size"])


def paginated(
    request,
    *,
    count: int,
    fetch: Callable[[int, int], list],
    page: PageRequest | None = None,
) -> dict:
    """fetch(skip, limit) returns the already-serialised items of one page."""
    page = page or page_request(request)
    if page.page > 1 and page.skip >= count:
        raise NotFound("Invalid page.")
    results = fetch(page.skip, page.page_size)
    url = request.build_absolute_uri()
    has_next = page.skip + len(results) < count
    next_url = replace_query_param(url, "page", page.page + 1) if has_next else None
    if page.page <= 1:
        previous_url = None
    elif page.page == 2:
        previous_url = remove_query_param(url, "page")
    else:
        previous_url = replace_query_param(url, "page", page.page - 1)
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}


def paginated_schema(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """An OpenAPI response serializer for a page of `item`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item.__class__(many=True),
        },
    )()


# Dashboard pages: Django's Paginator over a store read, with links keeping the other filters.


class _StoreRead:
    """What Paginator needs from a store read: its size, and one slice (a skip and a limit)."""

    def __init__(self, count: int, fetch: Callable[[int, int], list]):
        self._count = count
        self._fetch = fetch

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, part: slice) -> list:
        return self._fetch(part.start, part.stop - part.start)


def page_of(request, *, count: int, fetch: Callable[[int, int], list], page_size: int) -> dict:
    """The page `?page=` asks for (not a number: the first; past the end: the last) as template
    context: `items` (fetch(skip, limit)), count, page, pages, previous_url, next_url."""
    page = Paginator(_StoreRead(count, fetch), page_size).get_page(request.GET.get("page"))
    params = request.GET.copy()

    def link(number):
        params["page"] = str(number)
        return "?" + params.urlencode()

    return {
        "items": list(page.object_list),
        "count": count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "previous_url": link(page.previous_page_number()) if page.has_previous() else None,
        "next_url": link(page.next_page_number()) if page.has_next() else None,
    }
