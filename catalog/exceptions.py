"""Domain errors of the catalog, raised by services and selectors; shopsite's one exception
handler maps them to HTTP (status and body from the class)."""

from shopsite.api import BusyError, ConflictError, DomainError, NotFoundError


class ProductNotFound(NotFoundError):
    def __init__(self, product_id):
        super().__init__(f"Product {product_id} not found.")
        self.product_id = str(product_id)


class ProductNotOrderable(DomainError):
    """The product is missing or no longer for sale (a 400 on an order item)."""

    def __init__(self, product_id, reason: str):
        self.product_id = str(product_id)
        self.reason = reason
        message = "Unknown product." if reason == "missing" else "Product is not available."
        super().__init__(message)


class StockConflict(ConflictError):
    """The stock change would leave the stock out of range (409)."""

    # The answer's shape, for the schema of every endpoint that can give it.
    schema = {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "product_id": {"type": "string"},
            "available": {"type": "integer"},
        },
        "required": ["detail", "product_id", "available"],
    }

    def __init__(self, product_id, *, available: int, detail: str):
        super().__init__(detail)
        self.product_id = str(product_id)
        self.available = available

    def extra(self) -> dict:
        return {"product_id": self.product_id, "available": self.available}


class StockLockBusy(BusyError):
    """A product's stock lock could not be taken in STOCK_LOCK_WAIT_SECONDS (503, retry)."""

    def __init__(self, product_id):
        super().__init__(f"Product {product_id} is busy: stock lock wait exceeded; retry.")
        self.product_id = str(product_id)


class StockLockLost(StockLockBusy):
    """The lock expired while held (a stalled process) and another holder wrote since: this
    write was fenced off and not applied (503, retry)."""

    def __init__(self, product_id):
        super().__init__(product_id)
        self.args = (f"Product {product_id}: stock lock expired before the write; retry.",)
