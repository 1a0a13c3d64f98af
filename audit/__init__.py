"""The audit trail: who changed what, when, from where, with the old and new values (issue 19.6).

Workflows record their changes with ``audit.trail.record`` (one entry) or ``audit.trail.record_many``
(bulk paths), inside the transaction of the change, so a rolled-back change leaves no entry. Who and
from where come from the request being served (``audit.middleware``) or from ``audit.trail.acting``
(Celery tasks, management commands). This app imports nothing of ``customers`` or ``contacts`` (both
import it) except its page, ``audit.views``, which scopes the entries by the user's dealerships.
"""
