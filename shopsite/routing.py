"""URL patterns that answer with and without the trailing slash (the contract's rule)."""

import re

from django.urls import re_path

_CONVERTERS = {"str": r"[^/]+", "int": r"[0-9]+", "slug": r"[-a-zA-Z0-9_]+", "path": r".+"}
_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def optional_slash(route: str, view, name: str | None = None):
    """Like django.urls.path(route, ...) but 'a/b/' also matches 'a/b' (no redirect)."""
    regex, pos = "^", 0
    for match in _PARAM.finditer(route):
        regex += re.escape(route[pos : match.start()])
        conv = match.group("conv") or "str"
        regex += f"(?P<{match.group('name')}>{_CONVERTERS[conv]})"
        pos = match.end()
    regex += re.escape(route[pos:].rstrip("/")) + "/?$"
    return re_path(regex, view, name=name)
