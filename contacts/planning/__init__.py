"""Re-planning: load vehicles' facts in bulk, forecast, plan, and write only the difference.

The only place that joins the ORM with the forecast and plan cores for planning. Called by
``contacts.tasks.replan_vehicles`` (a chunk of vehicle ids) and by ``manage.py replan``.
Idempotent: a rerun with unchanged facts writes nothing; two runs at once leave one set of rows
(the natural key of Touchpoint is unique, and each chunk's write is one transaction).

| module | what it owns |
|---|---|
| ``facts`` | the facts of a chunk of vehicles, loaded in a fixed number of queries; the templates as the engine's |
| ``computing`` | the fingerprint of a vehicle's inputs; the forecast and the plan engine's inputs; the plan in memory |
| ``writing`` | writing only the difference of the touchpoints; withdrawing calls about cars that are gone |
| ``chunk`` | ``replan``: one chunk, skipping unchanged vehicles, in one transaction |
| ``sweep`` | the chunk size, ``replan_isolating_failures`` (one bad vehicle never fails its chunk), ANALYZE after a sweep |
"""
