"""How long vehicles' plans stay valid (pure engine, no database): the first night a car is planned, and
the nights after, once its conditional touchpoints are stored with the day they were planned for.

    .venv/bin/python bench/bench_validity.py --vehicles 2000 --seeds 1,2,5

Vehicles come from the random generator of the validity proof (tests/contacts/core/plan_engine/
test_validity.py: cars of every age, lapsed and missed maintenances over-represented). A vehicle whose plan
is valid one day only is re-planned every night by the sweep. Prints one JSON object; the reference
figure of the same run is the plan engine's own rate (vehicles planned per second with validity).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contacts.core.plan_engine import plan_valid_until, plan_vehicle  # noqa: E402
from contacts.core.program import DEFAULT_PROGRAM  # noqa: E402
from tests.contacts.core.plan_engine.test_validity import _facts, _stored  # noqa: E402


def measure(vehicles: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    first: list[int] = []
    stored: list[int] = []
    started = time.process_time()
    for _ in range(vehicles):
        facts = _facts(rng)
        planned = plan_vehicle(DEFAULT_PROGRAM, facts)
        first.append((plan_valid_until(DEFAULT_PROGRAM, facts, planned) - facts.today).days)
        later = _stored(facts, planned)
        stored.append((plan_valid_until(DEFAULT_PROGRAM, later, plan_vehicle(DEFAULT_PROGRAM, later)) - facts.today).days)
    seconds = time.process_time() - started

    def summary(days: list[int]) -> dict[str, float]:
        days = sorted(days)
        return {"median_days": statistics.median(days), "p10_days": days[len(days) // 10],
                "valid_one_day_percent": round(100 * sum(d <= 1 for d in days) / len(days), 1)}

    return {"seed": seed, "vehicles": vehicles, "first_night": summary(first), "once_stored": summary(stored),
            "reference_plans_with_validity_per_cpu_second": round(2 * vehicles / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--seeds", default="1,2,5")
    args = parser.parse_args()
    print(json.dumps([measure(args.vehicles, int(s)) for s in args.seeds.split(",")], indent=1))


if __name__ == "__main__":
    main()
