"""The contacts app's pure core: no Django, plain dataclasses in and out, ``today`` passed in.

- ``plan_engine``: templates + a vehicle's facts -> dated touchpoints with windows and reasons.
- ``pressure``: a household's touchpoints + history + rules -> calls, messages, deferrals, suppressions.
- ``pressure_audit``: stored calls and messages checked against the same rules.
- ``figures``: the managers' formulas (retention, churn, Wilson and Newcombe intervals, profit).
- ``message_hours``: may a message go out at this local moment (message hours, working days, greetings)?
- ``replies``: a customer's reply read as a refusal, a mileage or something else.
- ``program``: the default 36-touchpoint program as data; its scripts are text files in ``scripts/``.

The import contracts in pyproject.toml keep Django out of here.
"""
