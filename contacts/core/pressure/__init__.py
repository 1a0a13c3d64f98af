"""Contact-pressure resolver: one household's touchpoints + contact history + rules -> call tasks,
messages and one machine-readable decision per touchpoint (docs/program.md, "Windows" and
"Contact-pressure defaults").

Pure core: standard library only, no Django, no clock (``today`` is passed in), deterministic and
independent of the input order. The caller builds the holiday set (the ``holidays`` package, the
dealership's country) and passes plain dates in ``Rules.holidays``.

The unit of resolution is a household: the customers who share a phone number. The caller passes all
touchpoints of all its customers in one call, and every pressure rule (call gap, call caps, message
gap, no message on a call day) is counted across the whole unit, all vehicles and all departments.
For a customer alone in a household this is exactly the per-customer rule of docs/program.md. Call
touchpoints are merged only within one customer (one agenda is about one person).

How the resolver places things, in this order:

1. Per touchpoint, before any pressure: a blocked channel (do-not-call/-sms/-email) suppresses it
   (``do_not_contact:<channel>``); an unreachable phone suppresses calls (``unreachable``); a window
   that ended before ``today`` suppresses it (``window_passed``); a window that starts before
   ``today`` is placed from ``today``. With ``horizon_end``, a touchpoint whose window opens after
   it is left ``pending`` (``beyond_horizon``) for a later run and constrains nothing.
2. Requested calls (a callback, a hot hand-off), then the other calls, then messages, each in the
   order (wish day, department priority, window end, touchpoint id). The wish day is ``due_on``
   clamped into the open part of the window. A call is placed at the earliest allowed day of its
   window (call early), so it may land before ``due_on`` when the window opens earlier.
3. Merging (documented choice). A call touchpoint first joins an already placed call of the same
   customer whose day lies inside its window and within ``merge_window_days`` of its wish day: that
   adds no call at all. Otherwise it leads a new call: the following unplaced call touchpoints of the
   same customer whose wish day is within ``merge_window_days`` of the lead's are taken in order,
   each only if the intersection of the windows taken so far and its own window still holds an
   allowed day; the call goes to the earliest allowed day of that intersection ("the earliest allowed
   date of the merged windows"). A touchpoint that does not fit is not merged; it is handled on its
   own later (placed or suppressed). So a placed day always lies inside the window of every item on
   the agenda, which is the invariant the product audits, and ``CallPlan.window_start``/``window_end``
   (the max of the window starts and the min of the window ends) is the range the queue may move the
   call in. A merged call may thus be later than its first touchpoint's date (``deferred:merge``),
   never outside its window.
   A non-requested touchpoint may join a requested call: it costs the customer no extra call, and the
   call stays requested (exempt from the gap and caps).
4. Requested calls ignore the call gap and caps and are not counted by them, but obey windows,
   do-not-contact, working days, holidays and the same-day rule. Requested messages likewise ignore
   and do not count for the message gap.
5. "Nothing on the same day as a call" is kept both ways: a new message avoids every call day (history
   and new), and a new call avoids the days of messages already sent or scheduled (``History``).

Reason codes (``Decision.reason``): ``placed``; ``merged_into:<call key>``; ``deferred:<rule>``;
``do_not_contact:<channel>``; ``unreachable``; ``window_passed``; ``window_closed:<rule>``;
``beyond_horizon``. Rules: ``holiday``, ``weekend``, ``message_same_day_as_call``, ``min_gap``,
``cap_30``, ``cap_365``, ``message_gap`` and, for deferrals only, ``merge`` (an allowed earlier day was
passed over so that one call covers several touchpoints). The rule named is the binding one: ``merge``
if an earlier day was allowed, else the pressure rule that blocked most days, else the calendar rule
that blocked most days (ties in the order just listed). Each day is checked calendar first, so a
weekend that is also inside the gap counts as ``weekend``.

History: pass one ``PastCall`` per call task (placed, or already issued for a future day: a re-run
around existing tasks then respects the gap); the retry attempts of one task are one call. Every call
counts, reached or not (``is_reached`` is informational). A requested past call does not count for the gap
and caps. The resolver never merges into history: leave touchpoints already covered by an issued
task out of ``items``.

The package, one topic a module: ``types`` (inputs, outputs, channel codes), ``rules`` (the rule codes,
the working calendar, the caps' arithmetic, the binding rule), ``household`` (a household's contact
budget: the earliest allowed day of a window, and why there is none), ``merging`` (call touchpoints
grouped into calls, and each call's agenda and decisions), ``builders`` (the outputs built fast, the
shared wording of decisions) and ``resolver`` (``resolve``: screening, then calls, then messages).
Callers import from the package; the modules' underscored names are the package's own.
"""

from contacts.core.pressure.resolver import resolve
from contacts.core.pressure.types import (
    CALL,
    CHANNELS,
    DEFAULT_DEPARTMENT_PRIORITY,
    EMAIL,
    SMS,
    UNKNOWN_DEPARTMENT_PRIORITY,
    CallPlan,
    Decision,
    History,
    Item,
    MessagePlan,
    Outcome,
    PastCall,
    Resolution,
    Rules,
)

__all__ = [
    "CALL",
    "CHANNELS",
    "DEFAULT_DEPARTMENT_PRIORITY",
    "EMAIL",
    "SMS",
    "UNKNOWN_DEPARTMENT_PRIORITY",
    "CallPlan",
    "Decision",
    "History",
    "Item",
    "MessagePlan",
    "Outcome",
    "PastCall",
    "Resolution",
    "Rules",
    "resolve",
]
