"""API routes (contract paths) and dashboard pages (under dashboard/)."""

urlpatterns: list = []
