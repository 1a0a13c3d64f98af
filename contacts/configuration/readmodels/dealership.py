"""Read models of a dealership's settings pages: its holidays, its team, its measured coefficients, its changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import holidays as holiday_calendars
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from contacts import metrics
from contacts.configuration.invites import invite_state
from contacts.models import (
    ConfigurationChange,
    ContactRules,
)
from contacts.queues import holiday_dates
from customers import access
from customers.models import Dealership


@dataclass(frozen=True)
class Holiday:
    day: dt.date
    name: str


def holidays_ahead(*, dealership: Dealership, today: dt.date, language: str) -> list[Holiday]:
    """The public holidays of the dealership's country (and region) in the coming year: no calls on them.
    The same calendar the queue build skips (contacts.queues.holiday_dates), with the holidays' names."""
    days = holiday_dates(dealership.country, dealership.region, today.year) | holiday_dates(
        dealership.country, dealership.region, today.year + 1
    )
    names = holiday_names(dealership.country, dealership.region, [today.year, today.year + 1], language)
    end = today + dt.timedelta(days=366)
    return [Holiday(day, names.get(day, "")) for day in sorted(days) if today <= day < end]


def holiday_names(country: str, region: str, years: list[int], language: str) -> dict[dt.date, str]:
    try:
        calendar = holiday_calendars.country_holidays(country, subdiv=region or None, years=years, language=language)
    except NotImplementedError:
        return {}
    return dict(calendar.items())


@dataclass(frozen=True)
class TeamRow:
    user: User
    roles: list[str]  # role labels
    in_dealership: list[bool]  # parallel to TeamGrid.dealerships
    is_invited: bool = False  # invited by e-mail, has not set a password yet
    invite_expired: bool = False


@dataclass(frozen=True)
class TeamGrid:
    dealerships: list[Dealership]
    rows: list[TeamRow]


def team_grid(*, members: QuerySet[User], dealerships: QuerySet[Dealership], now: dt.datetime) -> TeamGrid:
    columns = list(dealerships.order_by("name"))
    rows = []
    for member in members:
        names = {g.name for g in member.groups.all()}
        belongs = {d.pk for d in member.dealerships.all()}
        invite = invite_state(member)
        rows.append(TeamRow(
            user=member,
            roles=[str(label) for role, label in access.ROLE_LABELS.items() if role in names],
            in_dealership=[d.pk in belongs for d in columns],
            is_invited=invite.is_invited,
            invite_expired=invite.is_expired(now),
        ))
    return TeamGrid(columns, rows)


@dataclass(frozen=True)
class MeasuredCoefficients:
    """a, b and c as this dealership's own calls of the last 12 months measured them (None: no calls yet)."""

    start: dt.date
    end: dt.date
    calls: int
    reached: int
    bookings: int
    sales_from_leads: int

    @property
    def live_share(self) -> float | None:
        return round(self.reached / self.calls, 3) if self.calls else None

    @property
    def service_conversion(self) -> float | None:
        return round(self.bookings / self.reached, 3) if self.reached else None

    @property
    def repeat_conversion(self) -> float | None:
        return round(self.sales_from_leads / self.reached, 3) if self.reached else None


def measured_coefficients(*, dealership: Dealership, today: dt.date) -> MeasuredCoefficients:
    """Reach = reached calls / calls; service = bookings / reached calls; sales = hot leads that became a
    sale / reached calls; the dashboard's own counts (contacts.metrics) over the last 12 months."""
    scope = metrics.Scope(dealership_ids=(dealership.pk,), start=today - dt.timedelta(days=365), end=today)
    contacts = metrics.contact_figures(scope)
    leads = metrics.handoffs_to_sales(scope)
    return MeasuredCoefficients(scope.start, scope.end, contacts["calls"], contacts["reached"], contacts["bookings"],
                                leads["became_sales"])


@dataclass(frozen=True)
class ChangeRow:
    change: ConfigurationChange
    values: list[tuple[str, Any, Any]]  # (field label, before, after)


def recent_changes(*, dealership: Dealership, limit: int = 10) -> list[ChangeRow]:
    def label(name: str) -> str:
        for model in (ContactRules, Dealership):
            try:
                return str(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
            except FieldDoesNotExist:
                continue
        return name

    changes = ConfigurationChange.objects.filter(dealership=dealership).select_related("changed_by")[:limit]
    return [ChangeRow(c, [(label(name), values[0], values[1]) for name, values in c.changes.items()]) for c in changes]
