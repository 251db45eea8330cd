"""Content negotiation that skips parsing Accept for the common JSON-only case."""

from rest_framework.negotiation import DefaultContentNegotiation

# Accept values that JSON satisfies without parsing (no header at all is "*/*" for DRF too).
_TAKES_JSON = frozenset({None, "*/*", "application/json"})


class JSONFirstContentNegotiation(DefaultContentNegotiation):
    """A view offering one renderer, asked for anything or exactly its type, gets that renderer
    at once; views with several (the CSV exports), `?format=` or any other Accept negotiate
    exactly as DRF does (406 included)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            len(renderers) == 1
            and not format_suffix
            and request.META.get("HTTP_ACCEPT") in _TAKES_JSON
            and renderers[0].media_type == "application/json"
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
