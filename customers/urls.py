from __future__ import annotations

from django.urls import path

from customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("vehicles/<int:pk>/", views.vehicle_detail, name="vehicle"),
    path("imports/", views.customer_list, name="imports"),  # replaced by the import pages
]
