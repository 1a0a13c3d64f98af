"""The call-centre pages: the agent's queue and call screen, the supervisor's floor, the department inbox.

Who may open a page is decided once, by ``customers.access.role_required`` (a page of another role is
a 403); which rows a user may touch is decided by the ``get_<thing>_for_user`` helpers (``common``) through
``customers.access.dealerships_of`` (a task of another dealership is a 404). The work itself is done
by ``contacts.calls``; these views only read the request, call it and render.

htmx: forms post with ``hx-post``; an error re-renders only the form's partial with what the agent
typed; a success moves to the next page with ``HX-Location`` (an ajax swap of ``<main>``, no reload).

| module | pages |
|---|---|
| ``agent`` | the queue, "Next call", an inbound call, the call screen and its outcome bar, undo, release |
| ``floor`` | the supervisor's floor: live calls, agents on shift, reassigning |
| ``inbox`` | the department inbox: accepting and closing hand-offs |
| ``common`` | access to rows, htmx navigation, the user's day |
"""
