"""The REST API's routes (DRF), its OpenAPI schema and docs page (docs/import.md describes the API).

Authentication is DRF's (a token per integration user, or the session), so every route is exempt from
the login-page middleware; the views' permission classes decide (customers.access)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from contacts import api as contacts_api
from customers import api as customers_api


def api_path(route: str, view: Any, name: str) -> URLPattern:
    return path(route, login_not_required(view.as_view()), name=name)


def fact_paths(kind: str, prefix: str, key_route: str | None) -> list[URLPattern]:
    """The five operations of a kind of fact: list, detail, create, upsert by key, bulk."""
    views = {suffix: getattr(customers_api, f"{prefix}{suffix}Api") for suffix in ("List", "Detail", "Create", "Bulk")}
    routes = [
        api_path(f"{kind}/", views["List"], f"api-{kind}"),
        api_path(f"{kind}/<int:pk>/", views["Detail"], f"api-{kind}-detail"),
        api_path(f"{kind}/create/", views["Create"], f"api-{kind}-create"),
        api_path(f"{kind}/bulk/", views["Bulk"], f"api-{kind}-bulk"),
    ]
    if key_route:
        routes.append(api_path(f"{kind}/{key_route}/", getattr(customers_api, f"{prefix}UpsertApi"), f"api-{kind}-upsert"))
    return routes


urlpatterns = [
    # External ids may hold a "/" (1C document numbers such as 2025/0042): the path converter keeps it.
    *fact_paths("customers", "Customer", "by-external-id/<path:key>"),
    api_path("customers/<int:pk>/refusals/", customers_api.CustomerRefusalApi, "api-customers-refusal"),
    *fact_paths("vehicles", "Vehicle", "by-vin/<str:key>"),
    *fact_paths("sales", "Sale", "by-external-id/<path:key>"),
    *fact_paths("visits", "Visit", "by-external-id/<path:key>"),
    *fact_paths("readings", "Reading", None),
    api_path("touchpoints/", contacts_api.TouchpointListApi, "api-touchpoints"),
    api_path("touchpoints/<int:pk>/", contacts_api.TouchpointDetailApi, "api-touchpoints-detail"),
    api_path("call-tasks/", contacts_api.CallTaskListApi, "api-call-tasks"),
    api_path("call-tasks/<int:pk>/", contacts_api.CallTaskDetailApi, "api-call-tasks-detail"),
    api_path("call-tasks/claim/", contacts_api.CallTaskClaimApi, "api-call-claim"),
    api_path("call-tasks/<int:pk>/outcome/", contacts_api.CallTaskOutcomeApi, "api-call-outcome"),
    api_path("figures/", contacts_api.FiguresApi, "api-figures"),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path("docs/", login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
]
