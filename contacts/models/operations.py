"""The jobs' bookkeeping: daily queue builds, night sweep chunks, recorded processing problems, the
beat's heartbeat and the nightly metric snapshots."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Dealership, Vehicle


class QueueBuild(models.Model):
    """Once per dealership and day: the daily queue build's marker and counts."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="queue_builds")
    day = models.DateField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    # When the build sweep last queued this build, and how often: a build queued longer ago than a task
    # may run and still unfinished was lost (worker killed, broker restarted) and is queued again.
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["dealership", "day"], name="queue_build_once_per_day")]

    def __str__(self) -> str:
        return f"{self.dealership_id} {self.day}"


class SweepChunk(models.Model):
    """One id range of a night's re-plan sweep: queued, then finished by the worker that re-planned it.
    A chunk queued longer ago than a task may run and still unfinished was lost and is queued again."""

    night = models.DateField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    queued_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    # A chunk of a morning queue build instead (first_id..last_id: its households' lowest customer ids):
    # its households while queued, their call candidates and counts once resolved (contacts.queues.build).
    build = models.ForeignKey("QueueBuild", null=True, blank=True, on_delete=models.CASCADE, related_name="chunks")
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["night", "first_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["night", "first_id"], condition=Q(build__isnull=True), name="sweep_chunk_once_per_night"
            ),
            models.UniqueConstraint(fields=["build", "first_id"], name="build_chunk_once"),
        ]
        indexes = [
            # Read every minute by contacts.tasks.requeue_lost_work: the unfinished chunks.
            models.Index(fields=["queued_at"], name="sweep_chunk_unfinished", condition=Q(finished_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.night} {self.first_id}-{self.last_id}"


class Problem(models.Model):
    """One customer, household or vehicle the nightly re-plan or the morning build could not process:
    recorded and skipped, so that the rest of the dealership goes on (shown on /health/ and to the
    supervisor). The same subject failing again on the same day and stage is one row, counted."""

    class Stage(models.TextChoices):
        REPLAN = "replan", _("Nightly re-plan")
        BUILD = "build", _("Morning queue build")
        MESSAGES = "messages", _("Messages")

    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    day = models.DateField(_("day"))
    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # "vehicle:12", "customer:7", "household:7,9": what failed, readable without a join.
    subject = models.CharField(_("what"), max_length=200)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    error = models.TextField(_("error"))
    occurred_at = models.DateTimeField(_("when"))
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("processing problem")
        verbose_name_plural = _("processing problems")
        constraints = [
            models.UniqueConstraint(fields=["stage", "day", "subject"], name="problem_once_per_subject_and_day")
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.day} {self.subject}"


class BeatTick(models.Model):
    """The last time a worker executed the beat's heartbeat task (shown on the health page)."""

    name = models.CharField(max_length=50, unique=True)
    ticked_at = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.ticked_at}"


class MetricSnapshot(models.Model):
    """A dashboard figure computed by the nightly metrics job (dealership null = the whole group)."""

    key = models.CharField(max_length=60)
    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, null=True, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    computed_at = models.DateTimeField()
    value: Any = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "dealership", "period_start", "period_end"], name="metric_snapshot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.period_start}..{self.period_end}"
