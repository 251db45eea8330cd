"""Domain errors of orders."""


class OrderNotFound(Exception):
    def __init__(self, order_id):
        super().__init__(f"Order {order_id} not found.")
        self.order_id = str(order_id)


class OrderRejected(Exception):
    """Items name a missing or unavailable product (400). `errors` has the shape of the
    request body: {"items": [{}, {"product_id": [...]}]}, or a list of those for a bulk body."""

    def __init__(self, errors):
        super().__init__("Order rejected.")
        self.errors = errors
