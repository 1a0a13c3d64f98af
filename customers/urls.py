from __future__ import annotations

from django.urls import path

from customers import duplicate_views, import_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/phones/", views.customer_phones, name="phones"),
    path("duplicates/", duplicate_views.duplicates, name="duplicates"),
    path("duplicates/<int:pk>/merge/", duplicate_views.merge, name="duplicate_merge"),
    path("duplicates/<int:pk>/dismiss/", duplicate_views.dismiss, name="duplicate_dismiss"),
    path("vehicles/<int:pk>/", views.vehicle_detail, name="vehicle"),
    path("imports/", import_views.imports, name="imports"),
    path("imports/<int:pk>/", import_views.import_detail, name="import"),
    path("imports/<int:pk>/apply/", import_views.import_apply, name="import_apply"),
    path("imports/<int:pk>/retry/", import_views.import_retry, name="import_retry"),
    path("imports/<int:pk>/refused.csv", import_views.import_refused_csv, name="import_refused"),
    path("imports/template/<str:kind>.csv", import_views.import_template, name="import_template"),
]
