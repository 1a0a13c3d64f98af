"""The figures managers see, with their definitions (README "Figures"): the ORM computations, each over a set of dealerships and a period [start, end] (inclusive dates), then the
same figures month by month for the charts (``monthly_series``).

Everything is counted in the database: a query returns one row per month (or per bucket), never one
row per customer, so the nightly job stays linear in the data and light in memory. The one exception
is the dormant figure, whose "usual gap" is a running median: it streams visit days in order.
"""

from __future__ import annotations

from contacts.core.figures import (
    churn_rate,
    difference_interval,
    profit_estimate,
    retention_rate,
    wilson_interval,
)
from contacts.metrics.definitions import DAY, DEFINITIONS, EARLIEST, Month, Scope, month_buckets
from contacts.metrics.events import Events
from contacts.metrics.experiments import (
    MEASURES,
    compare_variants,
    script_variant_figures,
    touchpoint_conversion,
)
from contacts.metrics.figures import (
    ADHERENCE_COUNTS,
    CALL_COUNTS,
    INVITATION_COUNTS,
    LEAD_COUNTS,
    REPEAT_COUNTS,
    RETURN_COUNTS,
    all_figures,
    calls_by_month_and_agent,
    contact_figures,
    dead_contacts_by_silence,
    dormant_customers,
    forecast_accuracy,
    handoffs_to_sales,
    holdout_comparison,
    invitation_conversion,
    per_agent,
    repeat_sale_rate,
    retention,
    service_return_rate,
)
from contacts.metrics.monthly import SERIES_COLUMNS, agent_series, monthly_series
from contacts.metrics.pipeline import handoff_pipeline

__all__ = [
    "ADHERENCE_COUNTS",
    "CALL_COUNTS",
    "DAY",
    "DEFINITIONS",
    "EARLIEST",
    "Events",
    "INVITATION_COUNTS",
    "LEAD_COUNTS",
    "MEASURES",
    "Month",
    "REPEAT_COUNTS",
    "RETURN_COUNTS",
    "SERIES_COLUMNS",
    "Scope",
    "agent_series",
    "all_figures",
    "calls_by_month_and_agent",
    "compare_variants",
    "churn_rate",
    "contact_figures",
    "dead_contacts_by_silence",
    "difference_interval",
    "dormant_customers",
    "forecast_accuracy",
    "handoffs_to_sales",
    "handoff_pipeline",
    "holdout_comparison",
    "invitation_conversion",
    "month_buckets",
    "monthly_series",
    "per_agent",
    "profit_estimate",
    "repeat_sale_rate",
    "retention",
    "retention_rate",
    "script_variant_figures",
    "service_return_rate",
    "touchpoint_conversion",
    "wilson_interval",
]
