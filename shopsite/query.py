"""Query parameters: one strict style for every API operation.

A parameter is either absent (its default applies) or given once with a value of its type:
- an empty value (`?days=`) is a 400 naming it, never the default: for a destructive call
  (`DELETE /logs/old/?days=`) a typo must not pick a default for the client;
- a repeated parameter (`?days=1&days=9`) is a 400, not "the last one wins";
- an integer is digits only (`7`; not `7.0`, ` 7`, `+7` or `7_0`, which `int()` would take).
The served schema says the same: integer types, `minLength: 1` on strings, bounds from the fields.
"""

import re

from rest_framework import serializers

_INTEGER = re.compile(r"-?[0-9]+")  # DRF caps the length (1000)
EMPTY = "This parameter may not be empty: leave it out for its default."
REPEATED = "Give this parameter once."
NOT_INTEGER = "A whole number in digits, e.g. 7."


class QuerySerializer(serializers.Serializer):
    """Base of every query-parameter serializer (validate `request.query_params` with it)."""

    def to_internal_value(self, data):
        errors = {}
        for name, field in self.fields.items():
            if name not in data:
                continue
            values = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
            if len(values) > 1:
                errors[name] = [REPEATED]
            elif values[0] == "":
                errors[name] = [EMPTY]
            elif isinstance(field, serializers.IntegerField) and not _INTEGER.fullmatch(
                str(values[0])
            ):
                errors[name] = [NOT_INTEGER]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
