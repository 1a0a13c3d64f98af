"""The test suite's settings: the product's own (clm.settings) with DEBUG on, as in development.

DEBUG is off by default, so that a deployment which forgets it runs the production profile; the tests
run the development profile (a dev SECRET_KEY, plain HTTP, unhashed static files) unless a test asks
for production in a subprocess (tests/test_security.py). Set in the environment, so that the worker
and command subprocesses a test starts see the same."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "1")

from clm.settings import *  # noqa: E402,F403

# The SQLite test database is a file, not Django's shared in-memory one: the live server of the browser
# tests then has its own connection instead of sharing the test's, which hung a run when a page's
# polling request and the test's own query used the one connection at once. (PostgreSQL is unchanged.)
# One file per test process, so two runs in one checkout do not drop each other's tables.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-clm-{os.getpid()}.sqlite3")}  # noqa: F405

# Tests only: a fast password hash. Django's default (PBKDF2, a million rounds) is meant to be slow,
# and the suite creates and logs in hundreds of users; the product keeps the default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
