"""Orders API (contract: Orders). Thin: validate, call a service or selector, serialise."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api import BUSY, COMMON, ERROR, STOCK_CONFLICT, CatalogErrorsMixin
from shopsite.csv_export import FORMAT_PARAMETER, CSVExportMixin, csv_response, csv_schema
from shopsite.pagination import PAGE_PARAMETERS, page_request, paginated, paginated_schema

from . import selectors, services
from .exceptions import OrderNotFound, OrderRejected
from .exports import ORDER_ITEM_HEADER, order_item_rows
from .serializers import (
    MAX_BULK_ORDERS,
    OrderBulkInputSerializer,
    OrderInputSerializer,
    OrderListQuerySerializer,
    OrderOutputSerializer,
    RecentQuerySerializer,
)


class OrderErrorsMixin(CatalogErrorsMixin):
    def handle_exception(self, exc):
        if isinstance(exc, OrderNotFound):
            exc = NotFound(str(exc))
        elif isinstance(exc, OrderRejected):
            exc = ValidationError(exc.errors)
        return super().handle_exception(exc)


def _place_input(data: dict) -> dict:
    return {
        "customer": data["customer"],
        "items": [dict(item) for item in data["items"]],
        "created_at": data.get("created_at"),
    }


class OrderListApi(CSVExportMixin, OrderErrorsMixin, APIView):
    @extend_schema(
        summary="Orders of the last `days` days, newest first",
        description="`?format=csv` (or `Accept: text/csv`): every order the filters select, one "
        "row per order item, streamed.",
        operation_id="orders_list",
        parameters=[
            OpenApiParameter("days", int, description="1-3650, default 30."),
            OpenApiParameter("customer", str, description="Exact customer name."),
            *PAGE_PARAMETERS,
            FORMAT_PARAMETER,
        ],
        responses={
            (200, "application/json"): paginated_schema("OrderPage", OrderOutputSerializer()),
            (200, "text/csv"): csv_schema(ORDER_ITEM_HEADER, "one row per order item"),
            404: OpenApiResponse(ERROR, description="Page past the end."),
            **COMMON,
        },
    )
    def get(self, request):
        query = OrderListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        if self.wants_csv(request):
            rows = order_item_rows(selectors.orders_iter_since(**filters))
            return csv_response(rows, header=ORDER_ITEM_HEADER, filename="orders.csv")
        page = page_request(request)
        body = paginated(
            request,
            page=page,
            count=selectors.orders_count_since(**filters),
            fetch=lambda skip, limit: OrderOutputSerializer(
                selectors.orders_list_since(**filters, skip=skip, limit=limit), many=True
            ).data,
        )
        return Response(body)

    @extend_schema(
        summary="Place an order (the purchase), or several (a JSON list, all or nothing)",
        description="Each item's stock is decreased by its quantity, all or none; prices, names "
        "and categories are copied from the products at this moment. Missing or unavailable "
        "product: 400 naming the item. Too little stock: 409 and nothing is stored or changed. "
        f"A list holds at most {MAX_BULK_ORDERS} orders.",
        request=PolymorphicProxySerializer(
            component_name="OrderCreate",
            serializers=[OrderInputSerializer(), OrderInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="OrderCreated",
                serializers=[OrderOutputSerializer(), OrderOutputSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            ),
            **COMMON,
            409: OpenApiResponse(STOCK_CONFLICT, description="Too little stock; nothing changed."),
            503: BUSY,
        },
        examples=[
            OpenApiExample(
                "One order",
                value={
                    "customer": "Ada",
                    "items": [{"product_id": "66a1f0c2e4b0a1b2c3d4e5f6", "quantity": 2}],
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        if isinstance(request.data, list):
            bulk = OrderBulkInputSerializer(data=request.data)
            bulk.is_valid(raise_exception=True)
            docs = services.orders_place_bulk(
                orders=[_place_input(data) for data in bulk.validated_data],
                user_id=request.user.pk,
            )
            body = OrderOutputSerializer(docs, many=True).data
            return Response(body, status=status.HTTP_201_CREATED)
        one = OrderInputSerializer(data=request.data)
        one.is_valid(raise_exception=True)
        doc = services.order_place(**_place_input(one.validated_data), user_id=request.user.pk)
        return Response(OrderOutputSerializer(doc).data, status=status.HTTP_201_CREATED)


class OrderRecentApi(OrderErrorsMixin, APIView):
    @extend_schema(
        summary="The most recent orders, newest first (a plain list)",
        parameters=[OpenApiParameter("limit", int, description="1-100, default 100.")],
        responses={200: OrderOutputSerializer(many=True), **COMMON},
    )
    def get(self, request):
        query = RecentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        docs = selectors.orders_recent(limit=query.validated_data["limit"])
        return Response(OrderOutputSerializer(docs, many=True).data)


class OrderDetailApi(OrderErrorsMixin, APIView):
    @extend_schema(
        summary="One order", responses={200: OrderOutputSerializer, 404: ERROR, **COMMON}
    )
    def get(self, request, order_id):
        return Response(OrderOutputSerializer(selectors.order_get(order_id=order_id)).data)
