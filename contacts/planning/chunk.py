"""One chunk's re-plan: skip the vehicles whose inputs are unchanged, forecast and plan the others, write the difference, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from contacts.core.plan_engine import TemplateSpec
from contacts.models import PlanFingerprint, TouchpointTemplate
from contacts.planning.computing import fingerprint, global_inputs, plan_inputs, plan_with_validity
from contacts.planning.facts import (
    ChunkFacts,
    active_templates,
    load_conditional_days,
    load_facts,
    season_dates,
    vehicle_filter,
)
from contacts.planning.writing import PlanWriteResult, withdraw_calls_about_gone_cars, write_difference
from customers.forecasting import (
    Interval,
    VehicleRow,
    mileage_priors,
    prior_for,
    schedules,
    seasonal_profiles,
)
from customers.models import Dealership


def _commit_without_waiting_for_the_disk() -> None:
    """A re-plan writes derived rows only, and its fingerprints in the same transaction: if the server
    crashed before the last few commits reached the disk, the next sweep would simply redo them. So on
    PostgreSQL this transaction's commit does not wait for the WAL flush (measured: the flush was about
    a tenth of a cold chunk's time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


@dataclass(frozen=True)
class _ChunkInputs:
    """What every vehicle of a chunk is planned from besides its own facts, and each one's fingerprint."""

    today_by_dealership: dict[int, dt.date]
    seasons: dict[int, tuple[tuple[int, int], ...]]
    templates: list[tuple[TouchpointTemplate, TemplateSpec]]
    table: dict[tuple[str, str], Interval]
    priors: dict[str, float]
    digests: dict[int, int]
    profiles: dict[int, tuple[float, ...]]  # the dealerships' seasonal profiles (none: flat)
    common: str = ""  # global_inputs: the templates, the schedules, the code's version


def _chunk_inputs(facts: ChunkFacts, now: dt.datetime) -> _ChunkInputs:
    dealerships = {d.id: d for d in Dealership.objects.filter(id__in={v.dealership_id for v in facts.vehicles})}
    today_by_dealership = {pk: d.local_date(now) for pk, d in dealerships.items()}
    seasons = {pk: season_dates(d) for pk, d in dealerships.items()}
    templates = active_templates()
    table = schedules()
    common = global_inputs(templates, table)
    priors = mileage_priors()
    profiles = seasonal_profiles()
    inputs = _ChunkInputs(today_by_dealership, seasons, templates, table, priors, {}, profiles, common)
    inputs.digests.update(_digests(facts, facts.vehicles, inputs))
    return inputs


def _digests(facts: ChunkFacts, vehicles: Sequence[VehicleRow], inputs: _ChunkInputs) -> dict[int, int]:
    today = inputs.today_by_dealership
    return {
        v.id: fingerprint(
            facts, v, seasons=inputs.seasons[v.dealership_id],
            prior=prior_for(v, inputs.priors, sales=facts.sales[v.id], today=today[v.dealership_id]),
            common=inputs.common, profile=inputs.profiles.get(v.dealership_id),
        )
        for v in vehicles
    }


def _digests_after_writing(facts: ChunkFacts, changed: Sequence[VehicleRow], inputs: _ChunkInputs) -> dict[int, int]:
    """The fingerprints the next re-plan will compute for these just re-planned vehicles: the days of
    the conditional touchpoints this re-plan stored are among its facts (the next plan keeps them),
    so a new car is not planned a second time only because its first plan stored them (a fresh
    database's second sweep re-planned a quarter of its vehicles for that, writing nothing)."""
    ids = {v.id for v in changed}
    before = facts.conditional_planned_on
    load_conditional_days(facts, vehicle_filter(ids), ids)
    moved = [v for v in changed if facts.conditional_planned_on.get(v.id) != before.get(v.id)]
    return {**inputs.digests, **_digests(facts, moved, inputs)} if moved else inputs.digests


def _changed_vehicles(facts: ChunkFacts, inputs: _ChunkInputs, *, force: bool) -> list[VehicleRow]:
    """The vehicles whose fingerprint differs from the one their last re-plan stored, or whose plan's
    validity has ended by their local day (all, with ``force``)."""
    if force:
        return list(facts.vehicles)
    digests, today = inputs.digests, inputs.today_by_dealership
    stored = {
        vehicle_id: (digest, valid_until)
        for vehicle_id, digest, valid_until in PlanFingerprint.objects.filter(**vehicle_filter(set(digests))).values_list(
            "vehicle_id", "digest", "valid_until"
        )
    }
    changed = []
    for v in facts.vehicles:
        digest, valid_until = stored.get(v.id, (None, None))
        if digest != digests[v.id] or valid_until is None or valid_until <= today[v.dealership_id]:
            changed.append(v)
    return changed


def replan(*, vehicle_ids: Sequence[int], now: dt.datetime | None = None, force: bool = False) -> PlanWriteResult:
    """Forecast and re-plan these vehicles, writing only the difference.

    A vehicle whose inputs (its facts, its mileage prior, its dealership's seasonal profile, the
    templates and schedules) hash to the
    fingerprint stored by its last re-plan, and whose plan is still valid on its local day (the stored
    ``valid_until``), is skipped before anything is computed, unless ``force``: the nightly sweep run twice, or rerun after a killed worker, redoes only what is missing.
    """
    frozen_now = now or timezone.now()
    result = PlanWriteResult()
    facts = load_facts(vehicle_ids)
    result.vehicles = len(facts.vehicles)
    if not facts.vehicles:
        return result
    inputs = _chunk_inputs(facts, frozen_now)
    # The touchpoints' vehicle, customer and template keys have no database constraint: the chunk holds
    # those parents once each (writing._hold_parents) instead of ~80,000 checks at COMMIT, over half of
    # a cold chunk's PostgreSQL CPU (checking per statement, SET CONSTRAINTS ... IMMEDIATE, measured no
    # cheaper; bench/README.md). The forecast, snapshot and fingerprint keys (~6,000) stay deferred.
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        changed = _changed_vehicles(facts, inputs, force=force)
        result.skipped = result.vehicles - len(changed)
        if not changed:
            return result
        valid_until: dict[int, dt.date] = {}
        vehicle_facts, result.forecasts_written = plan_inputs(
            facts, changed, today_by_dealership=inputs.today_by_dealership, seasons_by_dealership=inputs.seasons,
            table=inputs.table, priors=inputs.priors, valid_until=valid_until, profiles=inputs.profiles,
        )
        planned = plan_with_validity(vehicle_facts, [spec for _row, spec in inputs.templates], valid_until)
        write_difference(
            planned=planned,
            vehicle_ids=[v.id for v in changed],
            template_ids={spec.code: row.id for row, spec in inputs.templates},
            today_by_vehicle={v.id: inputs.today_by_dealership[v.dealership_id] for v in changed},
            result=result,
        )
        withdraw_calls_about_gone_cars(
            {v.id: (facts.is_active[v.id], facts.owner_of.get(v.id)) for v in changed}
        )
        digests = _digests_after_writing(facts, changed, inputs)
        PlanFingerprint.objects.bulk_create(
            [
                PlanFingerprint(
                    vehicle_id=v.id, digest=digests[v.id], planned_at=frozen_now,
                    valid_until=valid_until.get(v.id, dt.date.max),
                )
                for v in changed
            ],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["vehicle"],
            update_fields=["digest", "planned_at", "valid_until"],
        )
    return result
