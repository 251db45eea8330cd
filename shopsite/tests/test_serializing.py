import threading

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from shopsite.api import ObjectIdField, StrictCharField, StrictIntegerField
from shopsite.serializing import represent, validated

built = []


class Item(serializers.Serializer):
    product_id = ObjectIdField()
    quantity = StrictIntegerField(min_value=1)


class Order(serializers.Serializer):
    customer = StrictCharField(max_length=20)
    items = Item(many=True, allow_empty=False)

    def __init__(self, *args, **kwargs):
        built.append(self)
        super().__init__(*args, **kwargs)

    def validate_customer(self, value):
        if value == "nobody":
            raise serializers.ValidationError("Not nobody.")
        return value


class Orders(serializers.ListSerializer):
    child = Order()


def order(customer: str, *quantities: int) -> dict:
    items = [{"product_id": "A" * 23 + str(i), "quantity": q} for i, q in enumerate(quantities)]
    return {"customer": customer, "items": items}


def drf_errors(serializer_class, data):
    serializer = serializer_class(data=data)
    assert not serializer.is_valid()
    return serializer.errors


def test_valid_data_is_validated_by_one_instance():
    data = order("ann", 1, 2)
    expected = Order(data=data)
    expected.is_valid(raise_exception=True)
    built.clear()
    for _ in range(3):
        assert validated(Order, data) == expected.validated_data
    assert len(built) <= 1  # the shared one, made on first use (or earlier)
    assert validated(Orders, [data, order("bob", 3)])[1]["items"][0]["quantity"] == 3


@pytest.mark.parametrize(
    "serializer_class, data",
    [
        (Order, order("nobody", 1)),
        (Order, order("x" * 21, 0)),
        (Order, {"customer": 5, "items": []}),
        (Order, ["not", "a", "dict"]),
        (Order, None),
        (Orders, [order("ann", 1), order("bob", -1)]),
        (Orders, "text"),
        (Orders, {"customer": "ann"}),
    ],
)
def test_invalid_data_gets_exactly_drfs_errors(serializer_class, data):
    with pytest.raises(ValidationError) as raised:
        validated(serializer_class, data)
    assert raised.value.detail == drf_errors(serializer_class, data)


def test_threads_sharing_the_instance_get_their_own_results():
    failures = []

    def work(n: int):
        for i in range(200):
            data = order(f"c{n}-{i}", n + 1, i + 1)
            try:
                got = validated(Order, data)
                assert got["customer"] == data["customer"]
                assert [item["quantity"] for item in got["items"]] == [n + 1, i + 1]
                if i % 10 == 0:
                    with pytest.raises(ValidationError):
                        validated(Order, order(f"c{n}", 0))
            except Exception as exc:  # collected: an assertion in a thread would be lost
                failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


class Out(serializers.Serializer):
    name = serializers.CharField()
    items = Item(many=True)


def test_represent_matches_data():
    doc = {"name": "n", "items": [{"product_id": "a" * 24, "quantity": 2}]}
    assert represent(Out, doc) == Out(doc).data
