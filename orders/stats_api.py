"""Stats API: GET /stats/sold/ and GET /stats/customer/{name} (thin: parse, call stats, render)."""

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.csv_export import FORMAT_PARAMETER, CSVExportMixin, csv_response, csv_schema

from . import selectors, stats
from .exports import SALES_HEADERS, sales_rows
from .stats_serializers import (
    BREAKDOWN_ROW_SERIALIZERS,
    CategoryRowSerializer,
    CustomerStatsSerializer,
    DayRowSerializer,
    ProductRowSerializer,
    SoldQuerySerializer,
    SoldSerializer,
    WeekdayRowSerializer,
)

_ERROR = inline_serializer(
    "StatsError", {"detail": serializers.CharField(), "errors": serializers.DictField()}
)


class SoldStatsView(CSVExportMixin, APIView):
    @extend_schema(
        summary="Units sold, orders and revenue in a time window",
        description=(
            "Over orders with `start <= created_at < end` (default: the last 30 days). "
            "`?by=product|category|day|weekday` adds `breakdown`: products and categories by "
            "revenue, largest first; the shop's days (SHOP_TIME_ZONE) oldest first, one row per "
            "day with orders; weekdays Monday (1) first, one row per weekday with orders. "
            "Cancelled orders are not sales. `time_zone` names the shop's zone. While the sales "
            "figures are being rebuilt (a new layout or time zone, a restore): 503 with "
            "`Retry-After`. "
            "`?format=csv` (or `Accept: text/csv`): the breakdown's rows (all of them) as CSV, or "
            "without `by` one row of totals."
        ),
        parameters=[SoldQuerySerializer, FORMAT_PARAMETER],
        responses={
            (200, "text/csv"): csv_schema(
                "; ".join(
                    f"{by}: {', '.join(SALES_HEADERS[by])}"
                    for by in ("day", "weekday", "product", "category", "totals")
                ),
                "the chosen breakdown's rows; without `by` (totals) one row",
            ),
            (200, "application/json"): inline_serializer(
                "SoldStats",
                {
                    **SoldSerializer().get_fields(),
                    "breakdown": PolymorphicProxySerializer(
                        "SoldBreakdownRow",
                        serializers=[
                            ProductRowSerializer,
                            CategoryRowSerializer,
                            DayRowSerializer,
                            WeekdayRowSerializer,
                        ],
                        resource_type_field_name=None,
                        many=True,
                        required=False,
                    ),
                },
            ),
            400: OpenApiResponse(_ERROR, description="Bad start, end or by."),
            503: OpenApiResponse(
                _ERROR,
                description="A backend is down, or the sales figures "
                "are being rebuilt (`Retry-After` is set).",
            ),
        },
    )
    def get(self, request):
        query = SoldQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        by = query.validated_data.get("by")
        totals, rows, start, end = stats.sold(start, end, by)
        if self.wants_csv(request):
            if not by:
                rows = [{"start": start, "end": end, **totals}]
            name = f"sales-{by or 'totals'}.csv"
            return csv_response(
                sales_rows(rows), header=SALES_HEADERS[by or "totals"], filename=name
            )
        body = SoldSerializer(
            {"start": start, "end": end, "time_zone": settings.SHOP_TIME_ZONE, **totals}
        ).data
        if by:
            body["breakdown"] = BREAKDOWN_ROW_SERIALIZERS[by](rows, many=True).data
        return Response(body)


class CustomerStatsView(APIView):
    @extend_schema(
        summary="Totals over all of one customer's orders",
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, description="Exact customer name (URL-encoded)."
            )
        ],
        responses={200: CustomerStatsSerializer, 404: OpenApiResponse(description="No orders.")},
    )
    def get(self, request, name: str):
        # The route matches an optional trailing slash into the name (names may contain "/").
        name = name[:-1] if name.endswith("/") else name
        totals = selectors.customer_stats(name=name)
        return Response(CustomerStatsSerializer(totals).data)
