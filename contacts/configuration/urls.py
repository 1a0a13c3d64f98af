from __future__ import annotations

from django.urls import path

from contacts.configuration import views

app_name = "configuration"
urlpatterns = [
    path("program/", views.program, name="program"),
    path("program/rules/", views.rules, name="rules"),
    path("program/profit/", views.profit, name="profit"),
    path("program/templates/new/", views.template_new, name="template_new"),
    path("program/templates/<slug:code>/", views.template_edit, name="template"),
    path("program/templates/<slug:code>/preview/", views.template_preview, name="template_preview"),
    path("program/templates/<slug:code>/publish/", views.template_publish, name="template_publish"),
    path("program/templates/<slug:code>/discard/", views.template_discard, name="template_discard"),
    path("program/templates/<slug:code>/restore/<int:number>/", views.template_restore, name="template_restore"),
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team_invite"),
    path("team/<int:pk>/", views.team_member, name="team_member"),
    path("team/<int:pk>/resend/", views.team_resend, name="team_resend"),
]
