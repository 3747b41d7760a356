"""The database file: schema, pragmas, per-thread connections, transactions."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage.db import Store
from storage.schema import migrations


def test_migrate_twice_is_harmless_and_sets_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).migrate()
    Store(path).migrate()
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"deploys", "changes", "incidents", "settings", "_sqlite_migrations"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    assert names == [m.name for m in migrations.applied(Database(path))]
    assert len(names) == len(set(names))
    assert migrations.pending(Database(path)) == []


def test_connection_pragmas(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.migrate()
    assert store.query_one("PRAGMA foreign_keys")[0] == 1
    assert store.query_one("PRAGMA busy_timeout")[0] >= 5000


def test_each_thread_has_its_own_connection(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.migrate()
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(id(store.db.conn)))
    thread.start()
    thread.join()
    assert seen and seen[0] != id(store.db.conn)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.migrate()
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:
        db.execute(
            "INSERT INTO settings (scope, key, value, updated_at) VALUES ('g', 'k', 'v', 't')"
        )
        db.execute(
            "INSERT INTO settings (scope, key, value, updated_at) VALUES ('g', 'k', 'v2', 't')"
        )
    assert store.query("SELECT * FROM settings") == []


def test_two_stores_migrating_one_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            Store(path).migrate()
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = Database(path)
    names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations")]
    assert len(names) == len(set(names))
    assert migrations.pending(db) == []
