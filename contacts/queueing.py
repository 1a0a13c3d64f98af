"""Workflows queue Celery tasks by name, once their transaction commits, and never import the tasks
module that calls them (contacts.tasks imports the workflows; this keeps the dependency one way).

A broker that is down must not turn a saved change into an error page: ``send_safely`` logs the
failure instead, and the nightly sweeps catch up.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

REPLAN_VEHICLES = "contacts.tasks.replan_vehicles"
COMPUTE_DASHBOARD_FIGURES = "contacts.tasks.compute_dashboard_figures"
REPLAN_ALL_VEHICLES = "contacts.tasks.replan_all_vehicles"


def send_on_commit(task_name: str, *args: Any) -> None:
    """Queue the task ``task_name`` with ``args`` once the current transaction commits."""
    transaction.on_commit(functools.partial(send_safely, task_name, args))


def send_safely(task_name: str, args: tuple[Any, ...]) -> None:
    """Queue it now; a broker failure is logged, not raised."""
    try:
        # Looked up in the app's registry (which imports contacts.tasks on first use): routes, eager
        # mode in tests and retries all apply as for task.delay().
        current_app.tasks[task_name].delay(*args)
    except Exception:  # noqa: BLE001 - any broker failure: logged, the nightly sweep catches up
        logger.exception("Could not queue %s%r; the nightly sweep will do its work", task_name, args)


def replan_on_commit(vehicle_ids: Iterable[int]) -> None:
    """Re-plan these vehicles through a worker once the current transaction commits."""
    ids = sorted(set(vehicle_ids))
    if ids:
        send_on_commit(REPLAN_VEHICLES, ids)
