"""Products API (contract: Products). Thin: validate, call a service or selector, serialise."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.api import COMMON_ERRORS as COMMON
from shopsite.api import ERROR, error_response
from shopsite.listing import FilteredListApi, list_schema

from . import selectors, services
from .exceptions import StockConflict
from .exports import PRODUCT_HEADER, product_rows
from .serializers import (
    DeletedCountSerializer,
    ProductBulkInputSerializer,
    ProductInputSerializer,
    ProductListQuerySerializer,
    ProductOutputSerializer,
    StockInputSerializer,
    product_out,
)

BUSY = error_response(
    "A backend is down (`mongodb unavailable`, `redis unavailable`), or the product's stock "
    "lock could not be taken within STOCK_LOCK_WAIT_SECONDS (retry; `Retry-After` is set). 503 "
    "rather than 409: the request is valid and nothing was written."
)


class ProductListApi(FilteredListApi):
    query_serializer = ProductListQuerySerializer
    csv_header = PRODUCT_HEADER
    csv_filename = "products.csv"

    def csv_rows(self, filters):
        return product_rows(selectors.products_iter(**filters))

    def page(self, filters, *, skip, limit):
        docs = selectors.product_list(**filters, skip=skip, limit=limit)
        return selectors.product_count(**filters), [product_out(doc) for doc in docs]

    @list_schema(
        summary="List products (newest first)",
        description="`?format=csv` (or `Accept: text/csv`): every product the filters select, "
        "streamed.",
        operation_id="products_list",
        query=ProductListQuerySerializer,
        page_name="ProductPage",
        item=ProductOutputSerializer(),
        csv_header=PRODUCT_HEADER,
        csv_rows="one row per product",
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Create one product, or several (a JSON list, all or nothing)",
        description="A list is validated as a whole before anything is written; its `errors` "
        f"are a list aligned with the input. At most {ProductBulkInputSerializer().max_length} "
        "products per request.",
        request=PolymorphicProxySerializer(
            component_name="ProductCreate",
            serializers=[ProductInputSerializer(), ProductInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="ProductCreated",
                serializers=[ProductOutputSerializer(), ProductOutputSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            ),
            **COMMON,
            503: BUSY,
        },
        examples=[
            OpenApiExample(
                "One product",
                value={"name": "Mug", "category": "kitchen", "price": "7.50", "stock": 20},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        if isinstance(request.data, list):
            bulk = ProductBulkInputSerializer(data=request.data)
            bulk.is_valid(raise_exception=True)
            docs = services.products_create_bulk(items=bulk.validated_data, user_id=request.user.pk)
            body = [product_out(doc) for doc in docs]
            return Response(body, status=status.HTTP_201_CREATED)
        one = ProductInputSerializer(data=request.data)
        one.is_valid(raise_exception=True)
        doc = services.product_create(**one.validated_data, user_id=request.user.pk)
        return Response(product_out(doc), status=status.HTTP_201_CREATED)


class ProductDetailApi(APIView):
    @extend_schema(
        summary="One product", responses={200: ProductOutputSerializer, 404: ERROR, **COMMON}
    )
    def get(self, request, product_id):
        return Response(product_out(selectors.product_get(product_id=product_id)))

    @extend_schema(
        summary="Partial update (same validation as create)",
        description="A change of `stock` is serialised with purchases by the product's lock.",
        request=ProductInputSerializer(partial=True),
        responses={200: ProductOutputSerializer, 404: ERROR, **COMMON, 503: BUSY},
    )
    def patch(self, request, product_id):
        selectors.product_get(product_id=product_id)  # 404 before 400 for an unknown id
        data = ProductInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        doc = services.product_update(
            product_id=product_id, user_id=request.user.pk, **data.validated_data
        )
        return Response(product_out(doc))

    @extend_schema(summary="Delete a product", responses={204: None, 404: ERROR, **COMMON})
    def delete(self, request, product_id):
        services.product_delete(product_id=product_id, user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductStockApi(APIView):
    @extend_schema(
        summary="Restock (positive delta) or correct (negative delta)",
        request=StockInputSerializer,
        responses={
            200: ProductOutputSerializer,
            404: ERROR,
            409: OpenApiResponse(
                StockConflict.schema,
                description="Stock would go below 0 (or above 1,000,000,000); nothing changed.",
            ),
            **COMMON,
            503: BUSY,
        },
    )
    def post(self, request, product_id):
        selectors.product_get(product_id=product_id)
        data = StockInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        doc = services.product_restock(
            product_id=product_id, delta=data.validated_data["delta"], user_id=request.user.pk
        )
        return Response(product_out(doc))


class ProductsUnavailableApi(APIView):
    @extend_schema(
        summary="Delete every product marked unavailable",
        responses={200: DeletedCountSerializer, 401: ERROR, 403: ERROR},
    )
    def delete(self, request):
        deleted = services.products_delete_unavailable(user_id=request.user.pk)
        return Response({"deleted": deleted})
