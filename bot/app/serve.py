"""`shipshape serve`: one process running the Slack app, the HTTP server and the scheduler.

Never pre-forked: each worker would run its own scheduler and Socket Mode connection.

Stopping never waits while holding a lock that running work needs, and waits for that work
only up to one deadline (SPEC: SIGTERM to exit within 10 s, whatever is running). Work still
running then keeps its database connection open: the process exits anyway.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import threading
import time
from functools import partial
from typing import Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from waitress.channel import HTTPChannel
from waitress.server import create_server

from bot.app import source_cards
from bot.app import text as app_text
from bot.app.slack_app import CheckedSocketModeHandler, build_app, web_client
from bot.app.web import Web
from bot.config import Config, ConfigError
from bot.core.clock import Clock
from bot.deps import Deps
from bot.pulse import schedule as pulse_schedule
from bot.scheduling import JobPool, Scheduler, TrackingExecutor
from bot.sources.api.routes import Api
from bot.sources.github import api as github_api
from bot.sources.github import sync as github_sync
from bot.sources.github.webhook import GitHubWebhook
from bot.sources.gitlab.webhook import GitLabWebhook
from bot.sources.pagerduty.webhook import PagerDutyWebhook
from bot.summary import schedule as summary_schedule
from storage.db import Store

log = logging.getLogger(__name__)
# waitress warns on every request that waits for a free thread, which under a burst of
# slash commands is most of them; queueing is normal and bounded, so keep the log readable.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

THREADS = 16
JOB_THREADS = 10  # APScheduler's default
MAX_BODY_BYTES = 32 * 1024 * 1024  # GitHub sends webhook payloads of up to 25 MB
STOP_SECONDS = 8  # SIGTERM to exit stays under the 10 s a supervisor waits
# A start-up still under way at SIGTERM gets this long to finish, so that it can be
# stopped cleanly; after that the process exits without it.
START_UP_GRACE_SECONDS = 2
# Slack gives up on a request after 3 s and GitHub after 10 s, so a request still arriving
# after 15 s is one nobody waits for: a slow client, or one holding a connection on purpose.
REQUEST_SECONDS = 15.0
CONNECTIONS = 1000  # waitress's default of 100 was filled by 100 slow clients
POLL_SECONDS = 0.001  # how often a stop looks whether the requests in hand were answered


# One incident card posted at a time: two quick deliveries of one incident (opened, then
# closed) would otherwise both find no message yet and post two cards.
class BoundedChannel(HTTPChannel):
    """A waitress connection whose every request must arrive in full within
    `request_seconds` of its first byte (the first request's, of the connection opening).
    waitress's own timeout counts from the last byte received, so a client sending a byte
    every few seconds kept its connection for ever, and a hundred such clients filled the
    connection limit and shut everyone else out, Slack included."""

    def __init__(
        self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None, *,
        request_seconds: float,
    ) -> None:  # fmt: skip
        super().__init__(server, sock, addr, adj, map)
        self._request_seconds = request_seconds
        self._request_began: float | None = time.monotonic()

    def received(self, data: bytes) -> bool:
        if self._request_began is None:
            self._request_began = time.monotonic()
        try:
            return bool(super().received(data))
        finally:
            if self.request is None:  # every request so far arrived in full
                self._request_began = None

    def readable(self) -> bool:
        # waitress asks every connection this on each turn of its loop, at least once a
        # second: the place to notice a deadline passing while the client sends nothing.
        began = self._request_began
        if began is not None and time.monotonic() - began > self._request_seconds:
            self.will_close = True  # writable() turns true, and the loop closes it
        return bool(super().readable())


def connection_limit() -> int:
    """CONNECTIONS, or fewer when the process may open few files: each connection is a
    file descriptor, and SQLite and the calls to Slack need theirs too."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return CONNECTIONS
    return max(100, min(CONNECTIONS, soft // 2))


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0)


class Server:
    """Everything `serve` runs, startable and stoppable from tests in the same process."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        host: str,
        port: int,
        *,
        request_seconds: float = REQUEST_SECONDS,
        connections: int | None = None,
    ) -> None:
        """`request_seconds` bounds how long a request may take to arrive (and a connection
        may stay idle); `connections` how many may be open at once (connection_limit())."""
        self.config = config
        self.store = Store(config.db_path)
        try:
            self.store.migrate()
        except Exception as error:
            raise ConfigError([app_text.cannot_open_database(config.db_path, str(error))]) from None
        self.jobs = JobPool(JOB_THREADS, "job")
        self.pulse_jobs = JobPool(1, "pulse")
        self.scheduler = Scheduler(timezone=config.timezone, executors={"default": self.jobs})
        self.deps = Deps(config=config, store=self.store, clock=clock, scheduler=self.scheduler)
        self.executor = TrackingExecutor(THREADS, "listener")  # Bolt's listeners
        client = web_client(config.slack_bot_token or "", config.slack_api_url)
        try:
            self.app = build_app(self.deps, client, self.executor)
        except BoltError as error:
            self.executor.shutdown()
            raise ConfigError([app_text.slack_rejected_token(str(error))]) from None
        except OSError as error:  # URLError and socket errors: Slack could not be reached
            self.executor.shutdown()
            reason = getattr(error, "reason", error)
            raise ConfigError(
                [app_text.slack_unreachable(config.slack_api_url, str(reason))]
            ) from None
        summary_schedule.sync(self.deps, self.app.client)
        self.summaries_caught_up = threading.Event()  # set once the start-up catch-up ran
        pulse_schedule.install(self.deps, self.app.client, self.pulse_jobs)
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
        self._looping = False  # the HTTP loop was started
        # An event, not Thread.join(): a signal interrupting join() in the main thread
        # leaves that thread marked stopped although it runs on (Python 3.11).
        self._loop_ended = threading.Event()
        slack = None if config.socket_mode else SlackRequestHandler(self.app)
        try:
            self.http = create_server(
                Web(
                    slack,
                    self.health,
                    GitHubWebhook(self.deps, self.executor),
                    config.slack_signing_secret or "",
                    api=Api(self.deps),
                    gitlab=GitLabWebhook(
                        self.deps,
                        self.executor,
                        partial(source_cards.announce, self.deps, self.app.client),
                    ),
                    pagerduty=PagerDutyWebhook(
                        self.deps,
                        self.executor,
                        partial(source_cards.announce, self.deps, self.app.client),
                    ),
                ),
                host=host,
                port=port,
                threads=THREADS,
                max_request_body_size=MAX_BODY_BYTES,
                ident="shipshape",
                connection_limit=connections or connection_limit(),
                # An idle connection is closed after as long as a request may take.
                channel_timeout=request_seconds,
                cleanup_interval=1,
                # select() cannot watch descriptors numbered 1024 and up; poll() can.
                asyncore_use_poll=True,
            )
        except OSError as error:
            self.executor.shutdown()
            raise ConfigError([app_text.port_in_use(host, port, str(error))]) from None
        # Its connections, which create_server has no option for.
        self.http.channel_class = partial(BoundedChannel, request_seconds=request_seconds)
        self._stop_lock = threading.Lock()
        self._stopped: bool | None = None  # what stop() returned, once it has run

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
            # Which sources this server takes records from: a route whose secret is unset
            # answers 503, so "off" here tells an operator why a tool's deliveries fail.
            "sources": {
                name: "on" if configured else "off"
                for name, configured in (
                    ("slack", True),
                    ("github", bool(self.config.github_webhook_secret)),
                    ("gitlab", bool(self.config.gitlab_webhook_secret)),
                    ("pagerduty", bool(self.config.pagerduty_webhook_secret)),
                    ("api", bool(self.config.api_tokens)),
                )
            },
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
        self._looping = True
        threading.Thread(target=self._run_loop, name="http", daemon=True).start()

    def _run_loop(self) -> None:
        try:
            self.http.run()
        finally:
            self._loop_ended.set()

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until the listeners have finished what they were handed (posts after acks)."""
        return self.executor.wait_idle(timeout)

    def wait_stopped(self) -> None:
        """Block until the HTTP loop ends, as stop() ends it."""
        self._loop_ended.wait()

    def stop(self, seconds: float = STOP_SECONDS) -> bool:
        """Stop everything within `seconds`, whatever is running: no new jobs or requests;
        the requests in hand answered; running jobs and listeners given until the deadline
        to end (jobs see the scheduler stopped and end after their current step); then the
        database closed. True when all of it ended in time; False when something was still
        running, whose database connection is then left open (closing a connection another
        thread is using can crash the process). Safe to call again."""
        with self._stop_lock:
            if self._stopped is None:
                self._stopped = self._stop(time.monotonic() + seconds)
            return self._stopped

    def _stop(self, deadline: float) -> bool:
        # Jobs first, so they wind down while the requests in hand are answered. With
        # wait=False the scheduler waits for nothing under its locks (JobThreads).
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.github_stop.set()
        socket_closed = self._close_socket_mode()
        answered = self._stop_http(deadline)
        finished = (
            answered
            and socket_closed.wait(_left(deadline))
            and all(
                threads.wait_idle(_left(deadline))
                for threads in (self.executor, self.jobs.threads, self.pulse_jobs.threads)
            )
        )
        self.executor.shutdown(wait=False, cancel_futures=True)
        if not finished:
            log.warning("stopping with work still running after the deadline: the database "
                        "stays open")  # fmt: skip
            return False
        self.store.close()
        return True

    def _close_socket_mode(self) -> threading.Event:
        """Close the Socket Mode connection on a thread of its own: slack_sdk's close()
        waits out its own timeouts (1 to 3 s) and for the listeners it is running, so it
        runs alongside the rest of the stop. The event is set once it has closed."""
        closed = threading.Event()
        socket = self.socket
        if socket is None:
            closed.set()
            return closed

        def close() -> None:
            try:
                socket.close()
            finally:
                closed.set()

        threading.Thread(target=close, name="socket-mode-stop", daemon=True).start()
        return closed

    def _stop_http(self, deadline: float) -> bool:
        """No new connections; the requests in hand answered and their responses sent; then
        every connection closed and the loop ended. True when every request was answered."""
        self.http.accepting = False  # waitress stops listening on its next turn
        tasks = self.http.task_dispatcher
        while (tasks.queue or tasks.active_count) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        tasks.shutdown(timeout=_left(deadline))
        # waitress is not thread-safe and has no stop(): while its loop runs, its sockets
        # are closed from inside the loop (a thunk run by its trigger), which then ends.
        if self._looping and not self._loop_ended.is_set():
            try:
                self.http.trigger.pull_trigger(self._close_sockets)
            except OSError:
                # The loop's wake-up pipe is already gone, so the loop is stopping on its
                # own: close what is left from here.
                self._close_sockets()
            self._loop_ended.wait(_left(deadline))
        else:
            self._close_sockets()
        return not tasks.threads

    def _close_sockets(self) -> None:
        # Each dispatcher closed once: the server's close() also closes its trigger pipe, so
        # closing the trigger again (as wasyncore.close_all would) could close a descriptor
        # another thread has just been given.
        sockets = self.http._map  # a single-socket server keeps its sockets here
        for dispatcher in list(sockets.values()):
            if isinstance(dispatcher, HTTPChannel):
                # A response not yet sent goes out first, as far as the client takes it
                # without blocking; handle_write() then closes the connection.
                dispatcher.will_close = True
                dispatcher.handle_write()
            elif dispatcher is not self.http.trigger:
                dispatcher.close()
        sockets.clear()


class _StartUp(threading.Thread):
    """Builds and starts the Server off the main thread, which then only waits: a signal is
    handled at once, even while start-up waits where Python cannot interrupt it (SQLite's
    busy wait on a locked database, a DNS lookup, Slack not answering auth.test)."""

    def __init__(self, config: Config, clock: Clock, host: str, port: int) -> None:
        super().__init__(name="start-up", daemon=True)
        self._server_args = (config, clock, host, port)
        self.server: Server | None = None
        self.error: BaseException | None = None
        self.cancelled = threading.Event()  # stopped before it finished: start nothing more
        self.finished = threading.Event()  # rather than join(), for the reason in Server

    def run(self) -> None:
        config, _, host, _ = self._server_args
        try:
            self.server = Server(*self._server_args)
            if self.cancelled.is_set():
                return
            mode = "socket" if config.socket_mode else "http"
            print(app_text.serving(mode, host, self.server.port), file=sys.stderr, flush=True)
            self.server.serve_in_thread()
        except BaseException as error:  # handed to the main thread, which raises it
            self.error = error
        finally:
            self.finished.set()


def serve(config: Config, clock: Clock, host: str, port: int) -> None:
    """Serve until SIGTERM or Ctrl-C, which the caller turns into SystemExit in the main
    thread (from the first moment of start-up on); then stop, and exit within 10 s."""
    began: float | None = None
    start_up = _StartUp(config, clock, host, port)
    clean = True
    try:
        start_up.start()
        start_up.finished.wait()
        if start_up.error is not None:
            raise start_up.error
        assert start_up.server is not None
        start_up.server.wait_stopped()
    except SystemExit:
        began = time.monotonic()
        start_up.cancelled.set()
    finally:
        if not start_up.finished.wait(START_UP_GRACE_SECONDS):
            # Stuck (Slack not answering, the database locked by another process): exit
            # without closing the database under it. SQLite drops an unfinished transaction.
            clean = False
        elif start_up.server is not None:
            spent = 0.0 if began is None else time.monotonic() - began
            clean = start_up.server.stop(STOP_SECONDS - spent)
    print(app_text.STOPPED, file=sys.stderr, flush=True)
    if not clean:
        # Threads still running would keep the interpreter from exiting: leave now.
        sys.stdout.flush()
        os._exit(0)
