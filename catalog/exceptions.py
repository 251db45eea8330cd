"""Domain errors of the catalog, raised by services and selectors, mapped to HTTP at the edges."""


class ProductNotFound(Exception):
    def __init__(self, product_id):
        super().__init__(f"Product {product_id} not found.")
        self.product_id = str(product_id)


class ProductNotOrderable(Exception):
    """The product is missing or no longer for sale (a 400 on an order item)."""

    def __init__(self, product_id, reason: str):
        self.product_id = str(product_id)
        self.reason = reason
        message = "Unknown product." if reason == "missing" else "Product is not available."
        super().__init__(message)


class StockConflict(Exception):
    """The stock change would leave the stock out of range (409)."""

    def __init__(self, product_id, *, available: int, detail: str):
        super().__init__(detail)
        self.product_id = str(product_id)
        self.available = available
        self.detail = detail


class StockLockBusy(Exception):
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
