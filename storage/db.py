"""SQLite access: one connection per thread, WAL, and write transactions that never deadlock
and never wait longer than their caller can.

Bolt's listener pool, the HTTP server's workers and the scheduler all run threads, and a
sqlite3 connection must not be shared between them, so each thread gets its own.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import sqlite_utils

from storage.schema import migrations

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# While a write has just found the database held by another program, writes that must answer
# in time only check again briefly: a burst of slash commands then gets its "busy" answers at
# once, instead of each waiting its whole budget in the queue for the in-process lock.
RECHECK_SECONDS = 0.2
# Emptying the -wal file must not hold up whoever closed a pulse round: one short try, then
# background tries at this pace until a long read that keeps it has ended.
CHECKPOINT_WAIT_MS = 100
CHECKPOINT_RETRY_SECONDS = 2.0
HEALTH_WAIT_SECONDS = 0.5
# Owner-only: the file holds who deployed what and, while a pulse round is open, who answered.
FILE_MODE = 0o600

# How long a write may wait to start for the code running now: seconds left, or None for the
# long default. Set by edges that must answer in time (a Slack listener before its ack).
WriteLimit = Callable[[], float | None]
_write_limit: ContextVar[WriteLimit | None] = ContextVar("write_limit", default=None)


class Busy(sqlite3.OperationalError):
    """A write could not start in the time it had: another writer, usually another program
    (a backup, a BI tool, a `sqlite3` shell), holds the database. Nothing was written."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"database is locked (gave up after {waited:.1f} s)")
        self.waited = waited


def limit_writes(limit: WriteLimit | None) -> None:
    """Bound the writes of the current context (and of the contexts copied from it)."""
    _write_limit.set(limit)


def _create_private(path: str) -> None:
    """Create a missing database file readable by its owner only, whatever the umask; SQLite
    gives the -wal and -shm files the database file's mode. An existing file keeps the mode
    its operator set (a group allowed to read it for reports, say)."""
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except OSError:
        return  # it exists, or cannot be created, which sqlite3.connect then reports
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have taken the owner's bits too
    finally:
        os.close(fd)


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switching a new file to WAL needs a moment of exclusive access, and SQLite answers
    "database is locked" at once, without its busy handler, while another connection
    (another process starting, or migrating) holds the file. Retry within the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _warn_wal_kept() -> None:
    log.warning(
        "the -wal file still holds deleted data (a reader is using the database); "
        "trying again to empty it in %.0f s",
        CHECKPOINT_RETRY_SECONDS,
    )


@contextmanager
def _busy_timeout(conn: sqlite3.Connection, seconds: float) -> Iterator[None]:
    """SQLite's busy wait for this connection's next statements only."""
    conn.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


class Store:
    """The database file, opened lazily per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        # Threads of this process queue here, in order, for the one SQLite write lock;
        # SQLite's own busy handler sleeps in growing steps and left unlucky threads
        # waiting for seconds under load. The busy timeout still covers other processes.
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        # The last write that tried found the database held: until one gets in, writes
        # with a limit only check again briefly (RECHECK_SECONDS).
        self._held_elsewhere = False
        self._closing = threading.Event()
        self._truncator: threading.Thread | None = None  # retries emptying the -wal file
        self._wal_again = False  # deleted data reached the WAL since the truncator last tried

    def migrate(self) -> None:
        """Create or upgrade the schema; safe to run on every start and from several processes."""
        # Inside one IMMEDIATE transaction, so two processes starting together take turns.
        with self.write() as db:
            migrations.apply(db)

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            _create_private(self.path)
            # isolation_level=None: we issue BEGIN ourselves, so the driver never opens
            # a transaction behind our back.
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,  # only so close() can run at shutdown
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _enable_wal(conn)
            # NORMAL in WAL mode survives a killed process (only an OS crash can lose
            # the last commits), which is the durability the bot promises.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten, not left in free pages: closing a pulse round
            # deletes who was asked and who answered, and that must not stay readable.
            conn.execute("PRAGMA secure_delete = ON")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            with self._lock:
                self._connections.append(conn)
        return db

    def _limit(self, wait: float | None) -> float | None:
        """Seconds this write may wait to start: the caller's, else the context's; None for
        the long default (scheduler jobs, the CLI, and listeners once they have answered)."""
        limit = _write_limit.get()
        return limit() if wait is None and limit is not None else wait

    def _left(self, limit: float | None, started: float) -> float:
        if limit is None:
            limit = BUSY_TIMEOUT_MS / 1000
        elif self._held_elsewhere:
            limit = min(limit, RECHECK_SECONDS)
        return max(0.0, limit - (time.monotonic() - started))

    @contextmanager
    def write(self, wait: float | None = None) -> Iterator[sqlite_utils.Database]:
        """One write transaction. BEGIN IMMEDIATE takes the write lock up front: a deferred
        transaction that reads and then writes fails with "database is locked" at once when
        another writer got in between, without waiting out the busy timeout.

        `wait` bounds, in seconds, both the queue for this process's lock and SQLite's wait
        for other processes; when it runs out, Busy is raised and nothing is written."""
        started = time.monotonic()
        limit = self._limit(wait)
        db = self.db
        if not self._write_lock.acquire(timeout=self._left(limit, started)):
            # Whoever has it has been waiting all this time: the database is held.
            self._held_elsewhere = True
            raise Busy(time.monotonic() - started)
        try:
            try:
                with _busy_timeout(db.conn, self._left(limit, started)):
                    db.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                self._held_elsewhere = True
                raise Busy(time.monotonic() - started) from None
            self._held_elsewhere = False
            try:
                yield db
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            db.conn.execute("COMMIT")
        finally:
            self._write_lock.release()

    def is_writable(self) -> bool:
        """Whether a write can start now (an empty transaction, bounded: for /healthz)."""
        try:
            with self.write(wait=HEALTH_WAIT_SECONDS):
                pass
        except sqlite3.Error:
            return False
        return True

    def truncate_wal(self) -> None:
        """Empty the -wal file, so the copies of deleted rows' pages it holds go too (closing
        a pulse round). A reader that holds an older snapshot prevents it: then it is retried
        in the background until it works or the store closes, with a warning each time."""
        if self._try_truncate():
            return
        _warn_wal_kept()
        with self._lock:
            self._wal_again = True
            if self._truncator is None:
                self._truncator = threading.Thread(
                    target=self._truncate_until_done, name="wal-truncate", daemon=True
                )
                self._truncator.start()

    def _try_truncate(self) -> bool:
        conn = self.db.conn
        if not self._write_lock.acquire(timeout=CHECKPOINT_WAIT_MS / 1000):
            return False
        try:
            with _busy_timeout(conn, CHECKPOINT_WAIT_MS / 1000):
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError:
            return False  # locked by another program's checkpoint or recovery
        finally:
            self._write_lock.release()
        return not busy

    def _truncate_until_done(self) -> None:
        while not self._closing.wait(CHECKPOINT_RETRY_SECONDS):
            with self._lock:
                self._wal_again = False
            if not self._try_truncate():
                _warn_wal_kept()
                continue
            with self._lock:
                if not self._wal_again:
                    self._truncator = None
                    log.info("the -wal file is emptied: the deleted data is gone from it")
                    return

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.db.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.db.conn.execute(sql, params).fetchone()

    def is_healthy(self) -> bool:
        """Whether the database can be read."""
        try:
            self.db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        """Close every thread's connection (at shutdown, when no thread is using them)."""
        self._closing.set()
        with self._lock:
            truncator = self._truncator
        if truncator is not None:
            truncator.join(CHECKPOINT_RETRY_SECONDS)  # one try is short: it ends at once
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
