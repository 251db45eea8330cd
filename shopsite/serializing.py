"""Serialisation with one serializer instance per class, built once per process.

`Serializer(instance).data` (and `Serializer(data=...)`) builds the serializer and deep-copies
its declared fields on every call, which was a measurable part of a cheap GET and of a purchase;
the fields of a serializer that needs no context keep no state of a call once built (they read
their settings and the data they are given), so one instance serves every thread.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.serializers import BaseSerializer

_instances: dict[type, object] = {}


def _shared(serializer_class):
    serializer = _instances.get(serializer_class)
    if serializer is None:
        serializer = serializer_class()
        _build(serializer)
        serializer = _instances.setdefault(serializer_class, serializer)
    return serializer


def _build(serializer) -> None:
    """Build the fields, the nested serializers' too, before the instance is shared."""
    serializer = getattr(serializer, "child", serializer)  # a list serializer's item
    for field in serializer.fields.values():
        if isinstance(field, BaseSerializer):
            _build(field)


def represent(serializer_class, instance) -> dict:
    """serializer_class(instance).data, for output serializers that use no context."""
    return _shared(serializer_class).to_representation(instance)


def validated(serializer_class, data):
    """serializer_class(data=data)'s validated_data (ValidationError as is_valid(raise_exception=
    True) raises it), for input serializers that use no context. Invalid data is validated again
    by a serializer of its own, so the error body is exactly DRF's."""
    try:
        return _shared(serializer_class).run_validation(data)
    except ValidationError:
        pass
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data  # valid the second time: only if the first was a fluke
