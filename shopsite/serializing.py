"""Output serialisation with one serializer instance per class, built once per process.

`Serializer(instance).data` builds the serializer and deep-copies its declared fields on every
call, which was a measurable part of a cheap GET; the fields of an output serializer that needs
no context are read-only once built, so one instance serves every thread.
"""

_instances: dict[type, object] = {}


def represent(serializer_class, instance) -> dict:
    """serializer_class(instance).data, for output serializers that use no context."""
    serializer = _instances.get(serializer_class)
    if serializer is None:
        serializer = serializer_class()
        serializer.fields  # noqa: B018 - build the fields before the instance is shared
        serializer = _instances.setdefault(serializer_class, serializer)
    return serializer.to_representation(instance)
