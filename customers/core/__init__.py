"""The customers app's pure core: calendar arithmetic, the mileage estimator, due dates, the backtest.

Nothing in this package imports Django, the rest of ``customers`` or ``contacts``, or reads the clock
(an import-linter contract in pyproject.toml checks the imports). The API is described in
docs/forecast.md.
"""
