"""Orders API (contract: Orders). Thin: validate, call a service or selector, serialise."""

import hashlib
import json
import re

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.exceptions import StockConflict
from shopsite.api import COMMON_ERRORS as COMMON
from shopsite.api import ERROR, error_response
from shopsite.listing import FilteredListApi, list_schema
from shopsite.serializing import represent, validated

from . import selectors, services
from .exports import ORDER_ITEM_HEADER, order_item_rows
from .serializers import (
    MAX_BULK_ORDERS,
    OrderBulkInputSerializer,
    OrderCancelInputSerializer,
    OrderInputSerializer,
    OrderListQuerySerializer,
    OrderOutputSerializer,
    RecentQuerySerializer,
)

BUSY = error_response(
    "A backend is down (`mongodb unavailable`, `redis unavailable`), a product's stock lock "
    "could not be taken within STOCK_LOCK_WAIT_SECONDS, or the purchase was undone for taking "
    "too long (retry; `Retry-After` is set). Nothing was placed."
)


IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_META = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
# 1-255 visible ASCII characters (api-contract.md); the schema says so with the same pattern.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def idempotency_key(request) -> str | None:
    """The request's Idempotency-Key, None without one; 400 naming the header if malformed."""
    value = request.META.get(_IDEMPOTENCY_META)  # not request.headers: it copies every header
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise ValidationError(
            {IDEMPOTENCY_HEADER: ["Must be 1-255 visible ASCII characters (no spaces)."]}
        )
    return value


def body_fingerprint(data) -> str:
    """The request body's fingerprint: same JSON value, same fingerprint (key order aside)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _place_input(data: dict) -> dict:
    return {
        "customer": data["customer"],
        "items": [dict(item) for item in data["items"]],
        "created_at": data.get("created_at"),
    }


class OrderListApi(FilteredListApi):
    query_serializer = OrderListQuerySerializer
    csv_header = ORDER_ITEM_HEADER
    csv_filename = "orders.csv"

    def csv_rows(self, filters):
        return order_item_rows(selectors.orders_iter_since(**filters))

    def page(self, filters, *, skip, limit):
        count, docs = selectors.orders_page_since(**filters, skip=skip, limit=limit)
        return count, OrderOutputSerializer(docs, many=True).data

    @list_schema(
        summary="Orders of the last `days` days, newest first",
        description="`?format=csv` (or `Accept: text/csv`): every order the filters select, one "
        "row per order item, streamed.",
        operation_id="orders_list",
        query=OrderListQuerySerializer,
        page_name="OrderPage",
        item=OrderOutputSerializer(),
        csv_header=ORDER_ITEM_HEADER,
        csv_rows="one row per order item",
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Place an order (the purchase), or several (a JSON list, all or nothing)",
        description="Each item's stock is decreased by its quantity, all or none; prices, names "
        "and categories are copied from the products at this moment. Missing or unavailable "
        "product: 400 naming the item. Too little stock: 409 and nothing is stored or changed. "
        f"A list holds at most {MAX_BULK_ORDERS} orders. With an `Idempotency-Key` header "
        "a retry (same key, same body) answers the first successful response again, with "
        "`Idempotent-Replayed: true`, and places nothing more.",
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                location=OpenApiParameter.HEADER,
                required=False,
                description="1-255 visible ASCII characters chosen by the client, scoped to the "
                "user and remembered for at least 24 hours: a retry with the same key and body "
                "is answered with the first successful response and places nothing. Same key "
                "with another body: 422; while the first request is in progress: 409. A "
                "request that did not succeed is not remembered. Malformed: 400.",
            ),
            OpenApiParameter(
                REPLAYED_HEADER,
                str,
                location=OpenApiParameter.HEADER,
                response=[201],
                enum=["true"],
                description="`true` on a response replayed for a repeated Idempotency-Key.",
            ),
        ],
        request=PolymorphicProxySerializer(
            component_name="OrderCreate",
            serializers=[OrderInputSerializer(), OrderInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="OrderCreated",
                    serializers=[OrderOutputSerializer(), OrderOutputSerializer(many=True)],
                    resource_type_field_name=None,
                    many=False,
                ),
                description="Placed (or, with `Idempotent-Replayed: true`, placed earlier by a "
                "request with the same Idempotency-Key and body).",
            ),
            **COMMON,
            409: OpenApiResponse(
                {"anyOf": [StockConflict.schema, ERROR]},  # a conflict body is an ErrorDetail too
                description="Too little stock (nothing changed), or a request with the same "
                "Idempotency-Key is still being processed.",
            ),
            422: OpenApiResponse(
                ERROR, description="The Idempotency-Key was used with a different body."
            ),
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
        key = idempotency_key(request)
        bulk = isinstance(request.data, list)
        if bulk:
            orders = [
                _place_input(data) for data in validated(OrderBulkInputSerializer, request.data)
            ]
        else:
            orders = [_place_input(validated(OrderInputSerializer, request.data))]
        replayed = False
        if key is not None:
            docs, replayed = services.orders_place_once(
                orders=orders,
                bulk=bulk,
                user_id=request.user.pk,
                key=key,
                fingerprint=body_fingerprint(request.data),
            )
        elif bulk:
            docs = services.orders_place_bulk(orders=orders, user_id=request.user.pk)
        else:
            docs = [services.order_place(**orders[0], user_id=request.user.pk)]
        body = [represent(OrderOutputSerializer, doc) for doc in docs]
        if not bulk:
            body = body[0]
        response = Response(body, status=status.HTTP_201_CREATED)
        if replayed:
            response[REPLAYED_HEADER] = "true"
        return response


class OrderRecentApi(APIView):
    @extend_schema(
        summary="The most recent orders, newest first (a plain list)",
        parameters=[RecentQuerySerializer],
        responses={200: OrderOutputSerializer(many=True), **COMMON},
    )
    def get(self, request):
        query = RecentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        docs = selectors.orders_recent(limit=query.validated_data["limit"])
        return Response(OrderOutputSerializer(docs, many=True).data)


class OrderDetailApi(APIView):
    @extend_schema(
        summary="One order", responses={200: OrderOutputSerializer, 404: ERROR, **COMMON}
    )
    def get(self, request, order_id):
        return Response(OrderOutputSerializer(selectors.order_get(order_id=order_id)).data)


_STATUS_CONFLICT = OpenApiResponse(
    ERROR, description="The order already took the other way (`status` in the body says which)."
)


class OrderFulfilApi(APIView):
    @extend_schema(
        summary="Fulfil an order (handed over to the customer)",
        description="A placed order becomes `fulfilled` (`fulfilled_at` set, an `order_fulfilled` "
        "event written). Already fulfilled: 200, unchanged. Cancelled: 409.",
        request=None,
        responses={
            200: OrderOutputSerializer,
            # No body, so nothing to answer 400 for.
            401: COMMON[401],
            403: COMMON[403],
            404: ERROR,
            409: _STATUS_CONFLICT,
            503: BUSY,
        },
    )
    def post(self, request, order_id):
        doc = services.order_fulfil(order_id=order_id, user_id=request.user.pk)
        return Response(OrderOutputSerializer(doc).data)


class OrderCancelApi(APIView):
    @extend_schema(
        summary="Cancel an order: its stock back, no longer a sale",
        description="A placed order becomes `cancelled` (`cancelled_at`, `cancel_reason` set, an "
        "`order_cancelled` event written); each item's quantity goes back to its product's "
        "stock exactly once (a product deleted since gets nothing back), and `/stats/sold/` and "
        "`/stats/customer/` leave it out from this answer on. Already cancelled: 200, "
        "unchanged, nothing goes back twice. Fulfilled: 409.",
        request=OrderCancelInputSerializer,
        responses={
            200: OrderOutputSerializer,
            404: ERROR,
            409: _STATUS_CONFLICT,
            **COMMON,
            503: BUSY,
        },
    )
    def post(self, request, order_id):
        data = validated(OrderCancelInputSerializer, request.data or {})
        doc = services.order_cancel(
            order_id=order_id, user_id=request.user.pk, reason=data.get("reason") or None
        )
        return Response(OrderOutputSerializer(doc).data)
