"""Dashboard forms. They validate through the API's serializers, so a rule lives in one place
and the page shows the same messages next to the fields."""

from django import forms

from .serializers import ProductInputSerializer, StockInputSerializer


class SerializerValidatedForm(forms.Form):
    """After Django's own field checks, run the API serializer over the clean fields and put
    its errors next to the matching fields; `validated` then holds the serializer's output."""

    serializer_class: type

    def clean(self):
        cleaned = super().clean()
        serializer = self.serializer_class(data=cleaned, partial=True)
        if not serializer.is_valid():
            for field, messages in serializer.errors.items():
                self.add_error(field if field in self.fields else None, [str(m) for m in messages])
        self.validated = serializer.validated_data if not self.errors else {}
        return cleaned


class ProductForm(SerializerValidatedForm):
    serializer_class = ProductInputSerializer

    name = forms.CharField(max_length=200)
    category = forms.CharField(max_length=100)
    price = forms.CharField(max_length=20, help_text='For example "19.99".')
    stock = forms.IntegerField(min_value=0)
    available = forms.BooleanField(required=False, initial=True)
    description = forms.CharField(
        required=False, strip=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The values the page was loaded with travel with the form, so a field the user
            # did not touch is not written back over a change made meanwhile (e.g. a purchase).
            for field in self.fields.values():
                field.show_hidden_initial = True

    @classmethod
    def initial_from(cls, doc: dict) -> dict:
        from shopsite.money import cents_to_str

        return {
            "name": doc["name"],
            "category": doc["category"],
            "price": cents_to_str(doc["price_cents"]),
            "stock": doc["stock"],
            "available": doc["available"],
            "description": doc.get("description", ""),
        }

    def changed_fields(self) -> dict:
        """The validated values of the fields the user changed (an edit writes only those)."""
        names = set(self.changed_data)
        return {
            key: value
            for key, value in self.validated.items()
            if (key if key != "price_cents" else "price") in names
        }


class StockForm(SerializerValidatedForm):
    serializer_class = StockInputSerializer

    delta = forms.IntegerField(help_text="Positive to restock, negative to correct.")


class ProductFilterForm(forms.Form):
    category = forms.CharField(required=False, max_length=100)
    q = forms.CharField(required=False, max_length=200, label="Name contains")
    available = forms.ChoiceField(
        required=False, choices=[("", "any"), ("true", "available"), ("false", "unavailable")]
    )
