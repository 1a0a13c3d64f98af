"""The Celery app. Tasks are queued with ``delay_on_commit`` from workflows (CONVENTIONS 6)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")

app = Celery("clm", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
