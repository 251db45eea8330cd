"""Domain errors of orders; shopsite's one exception handler maps them to HTTP."""

from shopsite.api import BusyError, ConflictError, DomainError, NotFoundError


class OrderNotFound(NotFoundError):
    def __init__(self, order_id):
        super().__init__(f"Order {order_id} not found.")
        self.order_id = str(order_id)


class CustomerNotFound(NotFoundError):
    """No orders were ever placed under this customer name."""

    def __init__(self, name: str):
        super().__init__(f"No orders for customer {name!r}.")


class OrderRejected(DomainError):
    """Items name a missing or unavailable product (400). `errors` has the shape of the
    request body: {"items": [{}, {"product_id": [...]}]}, or a list of those for a bulk body."""

    def __init__(self, errors):
        super().__init__("Order rejected.")
        self.errors = errors


class PurchaseAborted(BusyError):
    """The recovery undid this purchase while it was still running (it took longer than
    ORDER_INTENT_RECOVER_AFTER_SECONDS); nothing is placed or taken (503, retry)."""

    def __init__(self):
        super().__init__("The purchase took too long and was undone; nothing was placed. Retry.")


class IdempotencyKeyInUse(ConflictError):
    """Another request with this Idempotency-Key is still being processed (409)."""

    def __init__(self):
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry later."
        )


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was used with a different request body (422)."""

    status_code = 422

    def __init__(self):
        super().__init__("This Idempotency-Key was already used with a different request body.")


class OrderStatusConflict(ConflictError):
    """The order's status forbids the change: a cancelled order is never fulfilled, a fulfilled
    one never cancelled (409)."""

    def __init__(self, current: str, wanted: str):
        verb = {"cancelled": "cancel", "fulfilled": "fulfil"}[wanted]
        super().__init__(f"The order is {current}: it cannot {verb}.")
        self.current = current

    def extra(self) -> dict:
        return {"status": self.current}
