"""How hard the property tests and the schema fuzz try: at full strength in CI (``.ci/run`` sets
``CLM_FULL_PROPERTIES=1``), a tenth of it on a local run, so that the suite stays quick to run while
working. The same properties run either way; only the number of generated examples differs."""

from __future__ import annotations

import os

FULL = os.environ.get("CLM_FULL_PROPERTIES", "") == "1"


def examples(full: int) -> int:
    """``full`` examples in CI, a tenth (at least 15) locally."""
    return full if FULL else max(15, full // 10)
