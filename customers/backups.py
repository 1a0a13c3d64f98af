"""Backup and restore of the whole database, in either run mode (README, "Backup and restore").

- **SQLite** (the embedded default): SQLite's online backup API (``sqlite3.Connection.backup``)
  copies the database page by page while the web server and the worker keep using it, and gives a
  consistent copy even in WAL mode (a plain file copy of ``clm.sqlite3`` without its ``-wal`` file
  may not be). The backup is itself a SQLite database; restore copies it back the same way.
- **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot, while the product runs;
  sequences, constraints, the ``btree_gist`` extension and the indexes come back as they were) and
  ``pg_restore --clean --if-exists --single-transaction`` (all or nothing). ``dumpdata``/``loaddata``
  would be portable between the two databases but slow at hundreds of thousands of rows, and it
  does not restore sequences, so a restored database would hand out ids that exist already.

A backup of one mode restores into the same mode only; the file says which (SQLite's header
"SQLite format 3", pg_dump's "PGDMP").
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done, said in words."""


def _postgres_env(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install the PostgreSQL client tools (Debian: postgresql-client).")
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")


def backup(path: Path) -> None:
    """Write a consistent copy of the database to ``path`` (overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return
    if connection.vendor == "postgresql":
        args, env = _postgres_env(connection.settings_dict)
        _run([_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--file", str(path),
              str(connection.settings_dict["NAME"])], env)
        return
    raise BackupError(f"Backups of a {connection.vendor} database are not supported.")


def restore(path: Path) -> None:
    """Replace the database's content with the backup at ``path``. Stop the web server and the
    workers first: what they write meanwhile is lost."""
    if not path.is_file():
        raise BackupError(f"There is no file {path}.")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if connection.vendor == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a backup of the embedded (SQLite) database.")
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    if connection.vendor == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{path} is not a PostgreSQL backup (pg_dump --format=custom).")
        args, env = _postgres_env(connection.settings_dict)
        name = str(connection.settings_dict["NAME"])
        connection.close()  # our own session must not hold locks on the tables being replaced
        _run([_tool("pg_restore"), *args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--dbname", name, str(path)], env)
        return
    raise BackupError(f"Restoring a {connection.vendor} database is not supported.")
