"""`shipshape serve`: one process running the Slack app, the HTTP server and the scheduler.

Never pre-forked: each worker would run its own scheduler and Socket Mode connection.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import FrameType
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from waitress.server import create_server

from bot import github_api, github_sync, messages, pulse_schedule, summary_schedule
from bot.clock import Clock
from bot.config import Config, ConfigError
from bot.deps import Deps
from bot.github_webhook import GitHubWebhook
from bot.slack_app import CheckedSocketModeHandler, build_app, web_client
from bot.web import Web
from storage.db import Store

log = logging.getLogger(__name__)
# waitress warns on every request that waits for a free thread, which under a burst of
# slash commands is most of them; queueing is normal and bounded, so keep the log readable.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

THREADS = 16
MAX_BODY_BYTES = 32 * 1024 * 1024  # GitHub sends webhook payloads of up to 25 MB
STOP_SECONDS = 8  # SIGTERM to exit stays under the 10 s a supervisor waits


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool; it remembers unfinished work so shutdown can wait for it."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._pending: set[Future[Any]] = set()
        self._pending_lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def wait_idle(self, timeout: float) -> bool:
        """Wait for the work submitted so far; True when all of it finished in time."""
        with self._pending_lock:
            pending = list(self._pending)
        return not wait(pending, timeout=timeout).not_done

    def drain(self, timeout: float) -> None:
        self.wait_idle(timeout)
        self.shutdown(wait=False, cancel_futures=True)


class Scheduler(BackgroundScheduler):
    """APScheduler 3 removes a one-off job after handing it to an executor; when shutdown()
    has just marked the scheduler stopped, that removal looks among the not-yet-started
    jobs only, misses it, and the scheduler thread dies with a traceback on the way out.
    At shutdown the job is being dropped anyway, so that lookup error is not news."""

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()  # type: ignore[no-any-return]
        except JobLookupError:
            if self.state == STATE_STOPPED:
                return None
            raise


def _stop(signum: int, frame: FrameType | None) -> None:
    # Raised in the main thread, where waitress catches it and closes its listeners.
    raise SystemExit(0)


class Server:
    """Everything `serve` runs, startable and stoppable from tests in the same process."""

    def __init__(self, config: Config, clock: Clock, host: str, port: int) -> None:
        self.config = config
        self.store = Store(config.db_path)
        try:
            self.store.migrate()
        except Exception as error:
            raise ConfigError([messages.cannot_open_database(config.db_path, str(error))]) from None
        self.scheduler = Scheduler(timezone=config.timezone)
        self.deps = Deps(config=config, store=self.store, clock=clock, scheduler=self.scheduler)
        self.executor = TrackingExecutor(THREADS)
        client = web_client(config.slack_bot_token or "", config.slack_api_url)
        try:
            self.app = build_app(self.deps, client, self.executor)
        except BoltError as error:
            self.executor.shutdown()
            raise ConfigError([messages.slack_rejected_token(str(error))]) from None
        except OSError as error:  # URLError and socket errors: Slack could not be reached
            self.executor.shutdown()
            reason = getattr(error, "reason", error)
            raise ConfigError(
                [messages.slack_unreachable(config.slack_api_url, str(reason))]
            ) from None
        summary_schedule.sync(self.deps, self.app.client)
        self.summaries_caught_up = threading.Event()  # set once the start-up catch-up ran
        pulse_schedule.install(self.deps, self.app.client)
        self.github_stop = threading.Event()  # ends a running GitHub sync at shutdown
        if github_api.configured(config):
            minutes = config.github_sync_minutes
            # One sync at a time; runs missed while one was still going (or the machine
            # slept) collapse into one, which still runs up to an interval late.
            self.scheduler.add_job(
                github_sync.sync_scheduled,
                "interval",
                args=(self.deps, self.github_stop),
                minutes=minutes,
                id="github-sync",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=minutes * 60,
            )
        self.socket: SocketModeHandler | None = None
        self._loop: threading.Thread | None = None
        slack = None if config.socket_mode else SlackRequestHandler(self.app)
        try:
            self.http = create_server(
                Web(
                    slack,
                    self.health,
                    GitHubWebhook(self.deps, self.executor),
                    config.slack_signing_secret or "",
                ),
                host=host,
                port=port,
                threads=THREADS,
                max_request_body_size=MAX_BODY_BYTES,
                ident="shipshape",
            )
        except OSError as error:
            self.executor.shutdown()
            raise ConfigError([messages.port_in_use(host, port, str(error))]) from None

    @property
    def port(self) -> int:
        return int(self.http.effective_port)  # type: ignore[union-attr]

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy when the database can be read and written (a write that cannot start
        soon, because another program holds the database, is unhealthy: 503)."""
        readable = self.store.is_healthy()
        writable = readable and self.store.is_writable()
        if self.config.socket_mode:
            connected = bool(self.socket and self.socket.client.is_connected())
            slack = {"mode": "socket", "connected": connected}
        else:
            slack = {"mode": "http", "connected": True}
        state = {
            "status": "ok" if writable else "error",
            "database": "ok" if writable else ("busy" if readable else "error"),
            "database_writable": writable,
            "slack": slack,
            "scheduler": "running" if self.scheduler.running else "stopped",
        }
        return writable, state

    def start_background(self) -> None:
        self.scheduler.start()
        summary_schedule.start_catch_up(self.deps, self.app.client, self.summaries_caught_up)
        pulse_schedule.resume(self.deps, self.app.client)
        if self.config.socket_mode:
            self.socket = CheckedSocketModeHandler(self.app, self.config.slack_app_token)
            self.socket.connect()

    def serve_in_thread(self) -> None:
        """Start everything with the HTTP loop in a thread (for embedding and tests)."""
        self.start_background()
        self._loop = threading.Thread(target=self.http.run, name="http", daemon=True)
        self._loop.start()

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until the listeners have finished what they were handed (posts after acks)."""
        return self.executor.wait_idle(timeout)

    def run_forever(self) -> None:
        """Serve until SIGTERM or Ctrl-C, then stop in order: no new requests, finish the
        ones in flight, stop the scheduler, close the database."""
        previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start_background()
            self.http.run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.stop()

    def _close_sockets(self) -> None:
        # Each dispatcher closed once: the server's close() also closes its trigger pipe, so
        # closing the trigger again (as wasyncore.close_all would) could close a descriptor
        # another thread has just been given.
        sockets = self.http._map  # a single-socket server keeps its sockets here
        for dispatcher in list(sockets.values()):
            if dispatcher is not self.http.trigger:
                dispatcher.close()
        sockets.clear()

    def stop(self) -> None:
        # First let the HTTP workers finish the requests they hold, so no worker writes to a
        # socket closed under it. Then close the sockets: waitress is not thread-safe and has
        # no stop(), so when its loop runs in a thread they are closed from inside that loop
        # (a thunk run by its trigger), which then ends at once.
        self.http.task_dispatcher.shutdown(timeout=STOP_SECONDS / 2)
        if self._loop is not None and self._loop.is_alive():
            try:
                self.http.trigger.pull_trigger(self._close_sockets)
            except OSError:
                # The loop's wake-up pipe is already gone, so the loop is stopping on its
                # own: close what is left from here.
                self._close_sockets()
            self._loop.join(STOP_SECONDS / 2)
        else:
            self._close_sockets()
        if self.socket is not None:
            self.socket.close()
        self.github_stop.set()
        if self.scheduler.running:
            # Wait for running jobs: they see the scheduler stopped and end after their
            # current step, and the database must not close under them (closing a
            # connection another thread is using crashes SQLite).
            self.scheduler.shutdown(wait=True)
        self.executor.drain(STOP_SECONDS / 2)
        self.store.close()


def serve(config: Config, clock: Clock, host: str, port: int) -> None:
    server = Server(config, clock, host, port)
    mode = "socket" if config.socket_mode else "http"
    print(messages.serving(mode, host, server.port), file=sys.stderr, flush=True)
    server.run_forever()
    print(messages.STOPPED, file=sys.stderr, flush=True)
