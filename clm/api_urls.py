"""The REST API's routes (DRF), its OpenAPI schema and docs page. Authentication is DRF's (token or
session), so the views are exempt from the login-page middleware."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from contacts import api as contacts_api
from customers import api as customers_api


def open_path(route: str, view: Any, name: str) -> URLPattern:
    return path(route, login_not_required(view.as_view() if hasattr(view, "as_view") else view), name=name)


urlpatterns = [
    open_path("customers/", customers_api.CustomersApi, "api-customers"),
    open_path("customers/<int:pk>/", customers_api.CustomerDetailApi, "api-customer"),
    open_path("vehicles/", customers_api.VehiclesApi, "api-vehicles"),
    open_path("sales/", customers_api.SalesApi, "api-sales"),
    open_path("visits/", customers_api.VisitsApi, "api-visits"),
    open_path("readings/", customers_api.ReadingsApi, "api-readings"),
    open_path("touchpoints/", contacts_api.TouchpointsApi, "api-touchpoints"),
    open_path("call-tasks/", contacts_api.CallTasksApi, "api-call-tasks"),
    open_path("call-tasks/claim/", contacts_api.CallTaskClaimApi, "api-call-claim"),
    open_path("call-tasks/<int:pk>/outcome/", contacts_api.CallTaskOutcomeApi, "api-call-outcome"),
    open_path("figures/", contacts_api.FiguresApi, "api-figures"),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path("docs/", login_not_required(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
]
