"""The forecasts of a fixed set of varied vehicles, pinned by a digest (pure, no database).

Guards changes made for speed: every field of ``forecast_vehicle``'s result (the estimate with its kept
and flagged readings, the due date and its range, the plan's due days and drivers, the validity, the
habit errors, ``upcoming``), with and without stored habit errors, and the estimator alone, over the
generators of ``bench/forecast_digest.py`` (bench_mileage's fleet with typos, rollbacks, duplicates and
future readings; forecast_fleet's segments with bad readings; todays from two years before to 16 months
after the data's). A change meant to change forecasts changes the digest: check the difference
(``bench/forecast_digest.py --vehicles 200 --fleet 80 --seeds 3 --out lines.txt`` before and after,
then diff), and pin the new digest here.
"""

from __future__ import annotations

import hashlib

from bench.forecast_digest import lines

PINNED = "bd89ec124f281179b8a24b6e799e75f874bbd16764d5ecf1374f27dfef80df07"  # main at de4f2f0 and after


def test_forecasts_of_the_pinned_fleet_are_unchanged() -> None:
    results = lines(200, 80, [3])
    assert len(results) == 2520
    assert sum(1 for line in results if line == "None") > 0  # some todays come before any fact
    assert hashlib.sha256("\n".join(results).encode()).hexdigest() == PINNED
