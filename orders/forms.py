"""Dashboard forms for orders: the place-order form validates through the API serializer."""

import uuid

from django import forms

from shopsite.money import cents_to_str

MAX_ROWS = 10


STATUS_CHOICES = [
    ("", "Any status"),
    ("placed", "Placed (to fulfil)"),
    ("fulfilled", "Fulfilled"),
    ("cancelled", "Cancelled"),
]


class OrderFilterForm(forms.Form):
    customer = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)


class CancelOrderForm(forms.Form):
    """The optional reason of a cancel (the API's limit: api-contract.md, Orders)."""

    reason = forms.CharField(
        required=False,
        max_length=500,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        label="Reason (optional)",
        help_text="At most 500 characters; kept with the order and in its event.",
    )


class PlaceOrderForm(forms.Form):
    """A customer and up to MAX_ROWS (product, quantity) rows; empty rows are ignored."""

    customer = forms.CharField(max_length=200)
    # A new key per rendered form: a double click or a browser resubmit places one order.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255, required=False)

    def __init__(self, *args, products: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = uuid.uuid4().hex
        choices = [("", "—")] + [
            (
                str(p["_id"]),
                f"{p['name']} ({p['category']}) · {cents_to_str(p['price_cents'])} · "
                f"{p['stock']} in stock",
            )
            for p in products
        ]
        self.names = {str(p["_id"]): p["name"] for p in products}
        for row in range(MAX_ROWS):
            self.fields[f"product_{row}"] = forms.ChoiceField(
                required=False, choices=choices, label=f"Product {row + 1}"
            )
            self.fields[f"quantity_{row}"] = forms.IntegerField(
                required=False, min_value=1, initial=1, label=f"Quantity {row + 1}"
            )

    def rows(self):
        return [(self[f"product_{row}"], self[f"quantity_{row}"]) for row in range(MAX_ROWS)]

    def clean(self):
        from .serializers import OrderInputSerializer

        cleaned = super().clean()
        self.item_rows: list[int] = []
        items = []
        for row in range(MAX_ROWS):
            product = cleaned.get(f"product_{row}")
            if not product:
                continue
            quantity = cleaned.get(f"quantity_{row}")
            if quantity is None:
                if f"quantity_{row}" not in self.errors:
                    self.add_error(f"quantity_{row}", "Enter a quantity.")
                continue
            self.item_rows.append(row)
            items.append({"product_id": product, "quantity": quantity})
        if not items and not self.errors:
            self.add_error(None, "Choose at least one product.")
        if self.errors:
            return cleaned
        data = {"customer": cleaned.get("customer", ""), "items": items}
        serializer = OrderInputSerializer(data=data)
        if not serializer.is_valid():
            self.add_item_errors(serializer.errors)
        else:
            self.validated = serializer.validated_data
        return cleaned

    def add_item_errors(self, errors: dict) -> None:
        """Errors shaped like the API body ({"customer": [...], "items": [{...}]}) onto fields."""
        for message in errors.get("customer", []):
            self.add_error("customer", str(message))
        item_errors = errors.get("items", [])
        if isinstance(item_errors, dict):  # a list-level error such as "too many"
            for messages in item_errors.values():
                self.add_error(None, [str(m) for m in messages])
            return
        for index, item in enumerate(item_errors):
            row = self.item_rows[index]
            for field, messages in (item or {}).items():
                name = f"product_{row}" if field == "product_id" else f"quantity_{row}"
                self.add_error(name, [str(m) for m in messages])

    def add_stock_error(self, product_id: str, available: int) -> None:
        name = self.names.get(product_id, product_id)
        message = f"Not enough stock: only {available} of {name} left."
        for row in self.item_rows:
            if self.cleaned_data.get(f"product_{row}") == product_id:
                self.add_error(f"quantity_{row}", message)
        self.add_error(None, message)
