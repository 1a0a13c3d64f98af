"""The project package: settings, the Celery app and the root URLs."""

from __future__ import annotations

from clm.celery import app as celery_app

__all__ = ["celery_app"]
