"""Recording a call's outcome and what follows from it: retries, callbacks, do-not-call, bookings.

An outcome writes one CallAttempt, moves the task (done, retried, or replaced by a callback) and its
touchpoints, and records what the customer told us: mileage, do-not-call, a booking, a churn reason,
a sold car or a hot lead. Bad input raises ``OutcomeError`` in plain words and writes nothing.

| module | what it owns |
|---|---|
| ``recording`` | ``record_outcome``: take the call, validate, write the attempt, dispatch to the outcome's writer |
| ``validate`` | the checks every outcome shares, then one check per outcome that needs details |
| ``writers`` | what every outcome records, then one writer per outcome (retries, callbacks, do-not-call, ...) |
"""
