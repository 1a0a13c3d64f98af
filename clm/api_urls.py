"""The REST API's routes (DRF), its OpenAPI schema and docs page."""

from __future__ import annotations

urlpatterns: list = []
