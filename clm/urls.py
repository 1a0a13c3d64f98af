from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from contacts import operations_views
from customers import views as customer_views

urlpatterns = [
    path("", customer_views.home, name="home"),
    path("health/", operations_views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("customers/", include("customers.urls")),
    path("calls/", include("contacts.urls")),
    path("channels/", include("contacts.channels.urls")),
    path("api/", include("clm.api_urls")),
]
