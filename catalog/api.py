"""Products API (contract: Products). Thin: validate, call a service or selector, serialise."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.csv_export import FORMAT_PARAMETER, CSVExportMixin, csv_response, csv_schema
from shopsite.pagination import PAGE_PARAMETERS, page_request, paginated, paginated_schema
from shopsite.serializing import represent

from . import selectors, services
from .exceptions import ProductNotFound, StockConflict, StockLockBusy
from .exports import PRODUCT_HEADER, product_rows
from .serializers import (
    DeletedCountSerializer,
    ProductBulkInputSerializer,
    ProductInputSerializer,
    ProductListQuerySerializer,
    ProductOutputSerializer,
    StockInputSerializer,
)

ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
VALIDATION_ERROR = inline_serializer(
    "ValidationError", {"detail": serializers.CharField(), "errors": serializers.JSONField()}
)
STOCK_CONFLICT = inline_serializer(
    "StockConflict",
    {
        "detail": serializers.CharField(),
        "product_id": serializers.CharField(),
        "available": serializers.IntegerField(),
    },
)
BUSY = OpenApiResponse(
    ERROR,
    description="A backend is down (`mongodb unavailable`, `redis unavailable`), or the "
    "product's stock lock could not be taken within STOCK_LOCK_WAIT_SECONDS (retry; "
    "`Retry-After` is set). 503 rather than 409: the request is valid and nothing was written.",
)
COMMON = {400: VALIDATION_ERROR, 401: ERROR, 403: ERROR}


def stock_conflict_response(exc: StockConflict) -> Response:
    return Response(
        {"detail": exc.detail, "product_id": exc.product_id, "available": exc.available},
        status=status.HTTP_409_CONFLICT,
    )


def lock_busy_response(exc: StockLockBusy) -> Response:
    response = Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response["Retry-After"] = "1"
    return response


class CatalogErrorsMixin:
    """Domain errors to HTTP: unknown product 404, stock out of range 409, lock wait 503."""

    def handle_exception(self, exc):
        if isinstance(exc, ProductNotFound):
            exc = NotFound(str(exc))
        elif isinstance(exc, StockConflict):
            return stock_conflict_response(exc)
        elif isinstance(exc, StockLockBusy):
            return lock_busy_response(exc)
        return super().handle_exception(exc)


def _out(doc) -> dict:
    return represent(ProductOutputSerializer, doc)


class ProductListApi(CSVExportMixin, CatalogErrorsMixin, APIView):
    @extend_schema(
        summary="List products (newest first)",
        description="`?format=csv` (or `Accept: text/csv`): every product the filters select, "
        "streamed.",
        operation_id="products_list",
        parameters=[
            ProductListQuerySerializer,
            *PAGE_PARAMETERS,
            FORMAT_PARAMETER,
        ],
        responses={
            (200, "application/json"): paginated_schema("ProductPage", ProductOutputSerializer()),
            (200, "text/csv"): csv_schema(PRODUCT_HEADER, "one row per product"),
            404: OpenApiResponse(ERROR, description="Page past the end."),
            **COMMON,
        },
    )
    def get(self, request):
        query = ProductListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        if self.wants_csv(request):
            rows = product_rows(selectors.products_iter(**filters))
            return csv_response(rows, header=PRODUCT_HEADER, filename="products.csv")
        page = page_request(request)
        body = paginated(
            request,
            page=page,
            count=selectors.product_count(**filters),
            fetch=lambda skip, limit: ProductOutputSerializer(
                selectors.product_list(**filters, skip=skip, limit=limit), many=True
            ).data,
        )
        return Response(body)

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
            body = ProductOutputSerializer(docs, many=True).data
            return Response(body, status=status.HTTP_201_CREATED)
        one = ProductInputSerializer(data=request.data)
        one.is_valid(raise_exception=True)
        doc = services.product_create(**one.validated_data, user_id=request.user.pk)
        return Response(_out(doc), status=status.HTTP_201_CREATED)


class ProductDetailApi(CatalogErrorsMixin, APIView):
    @extend_schema(
        summary="One product", responses={200: ProductOutputSerializer, 404: ERROR, **COMMON}
    )
    def get(self, request, product_id):
        return Response(_out(selectors.product_get(product_id=product_id)))

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
        return Response(_out(doc))

    @extend_schema(summary="Delete a product", responses={204: None, 404: ERROR, **COMMON})
    def delete(self, request, product_id):
        services.product_delete(product_id=product_id, user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductStockApi(CatalogErrorsMixin, APIView):
    @extend_schema(
        summary="Restock (positive delta) or correct (negative delta)",
        request=StockInputSerializer,
        responses={
            200: ProductOutputSerializer,
            404: ERROR,
            409: OpenApiResponse(
                STOCK_CONFLICT,
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
        return Response(_out(doc))


class ProductsUnavailableApi(CatalogErrorsMixin, APIView):
    @extend_schema(
        summary="Delete every product marked unavailable",
        responses={200: DeletedCountSerializer, 401: ERROR, 403: ERROR},
    )
    def delete(self, request):
        deleted = services.products_delete_unavailable(user_id=request.user.pk)
        return Response({"deleted": deleted})
