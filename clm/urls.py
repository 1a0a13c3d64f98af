from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from contacts import operations_views
from contacts.configuration import views as configuration_views
from customers import token_views
from customers import views as customer_views

urlpatterns = [
    path("", customer_views.home, name="home"),
    path("health/", operations_views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail: Django's own views and (the admin's) templates.
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    # The language switch works before logging in too (the login page has it): without this the
    # login-required middleware sent its POST to the login form, and the login then back to it.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/invite/<uidb64>/<token>/", configuration_views.InviteAcceptView.as_view(), name="invite_accept"),
    path("accounts/invite/done/", configuration_views.invite_accepted, name="invite_done"),
    path("account/tokens/", token_views.tokens, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", token_views.revoke, name="api_token_revoke"),
    path("admin/", admin.site.urls),
    path("customers/", include("customers.urls")),
    path("calls/", include("contacts.urls")),
    path("channels/", include("contacts.channels.urls")),
    path("", include("contacts.configuration.urls")),
    path("api/", include("clm.api_urls")),
    path("audit/", include("audit.urls")),
]
