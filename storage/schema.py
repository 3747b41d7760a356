"""The schema, as sqlite-utils migrations. Append new migrations; never edit an applied one."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("shipshape")


def _run(db: sqlite_utils.Database, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m001_deploys_changes_incidents(db: sqlite_utils.Database) -> None:
    # AUTOINCREMENT: ids are shown to people ("Deploy #42"), so an undone id is never reused.
    _run(
        db,
        """
        CREATE TABLE deploys (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            service TEXT NOT NULL,
            environment TEXT NOT NULL,
            version TEXT,
            sha TEXT,
            repo TEXT,
            status TEXT NOT NULL CHECK (status IN ('success', 'failed')),
            deployed_at TEXT NOT NULL,
            is_hotfix INTEGER NOT NULL DEFAULT 0 CHECK (is_hotfix IN (0, 1)),
            rollback_of INTEGER REFERENCES deploys(id) ON DELETE SET NULL,
            url TEXT,
            source TEXT NOT NULL CHECK (source IN ('slack', 'github', 'import')),
            source_key TEXT NOT NULL,
            channel_id TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (source, source_key)
        );
        CREATE INDEX deploys_env_time ON deploys (environment, deployed_at);
        CREATE INDEX deploys_service_env_time ON deploys (service, environment, deployed_at);
        CREATE INDEX deploys_repo_time ON deploys (repo, deployed_at);
        CREATE INDEX deploys_rollback_of ON deploys (rollback_of);

        CREATE TABLE changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            repo TEXT NOT NULL,
            sha TEXT NOT NULL,
            authored_at TEXT,
            pr_number INTEGER,
            merged_at TEXT,
            deploy_id INTEGER REFERENCES deploys(id) ON DELETE SET NULL,
            source TEXT NOT NULL CHECK (source IN ('slack', 'github', 'import')),
            source_key TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (repo, sha)
        );
        CREATE INDEX changes_deploy ON changes (deploy_id);

        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            service TEXT NOT NULL,
            title TEXT NOT NULL,
            severity INTEGER CHECK (severity BETWEEN 1 AND 4),
            started_at TEXT NOT NULL,
            resolved_at TEXT CHECK (resolved_at IS NULL OR resolved_at >= started_at),
            deploy_id INTEGER REFERENCES deploys(id) ON DELETE SET NULL,
            cause TEXT NOT NULL CHECK (cause IN ('deploy', 'none', 'unknown')),
            source TEXT NOT NULL CHECK (source IN ('slack', 'github', 'import')),
            source_key TEXT NOT NULL,
            channel_id TEXT,
            message_ts TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (source, source_key),
            CHECK ((cause = 'deploy') = (deploy_id IS NOT NULL))
        );
        CREATE INDEX incidents_deploy ON incidents (deploy_id);
        CREATE INDEX incidents_resolved ON incidents (resolved_at);
        CREATE INDEX incidents_started ON incidents (started_at);

        CREATE TABLE settings (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        )
        """,
    )


@migrations()
def m002_metrics_indexes(db: sqlite_utils.Database) -> None:
    # Covering indexes for storage/metrics.py: every column a metrics query reads is in the
    # index, so a window's deploys, changes and incidents are read as one ordered range
    # without a table lookup per row. On 1 M deploys / 5 M changes this cut the report for
    # all services several times over (benchmarks/metrics_scale.py).
    # status sits before deployed_at so "successful deploys in [start, end)" and "failed
    # attempts in [start, end)" are each one contiguous range.
    # changes_deploy_authored starts with deploy_id, so it serves every lookup the old
    # changes_deploy did (the unlinking on deploy delete too); keeping both would only cost
    # writes and space on the largest table.
    _run(
        db,
        """
        CREATE INDEX deploys_metrics_env
            ON deploys (environment, status, deployed_at, service, is_hotfix, rollback_of);
        CREATE INDEX deploys_metrics_service
            ON deploys (service, environment, status, deployed_at, is_hotfix, rollback_of);
        CREATE INDEX changes_deploy_authored ON changes (deploy_id, authored_at);
        DROP INDEX changes_deploy;
        CREATE INDEX incidents_resolved_span ON incidents (resolved_at, started_at, deploy_id);
        CREATE INDEX incidents_service_resolved ON incidents (service, resolved_at, started_at)
        """,
    )


# ---- m003: metric rollups ------------------------------------------------------------------
# The SQL below is m003's and is frozen with it, like the migration: storage/metrics.py reads
# raw rows through the same fragments, so a rollup row and the raw rows it sums can never be
# computed two different ways.

# Lead-time buckets, coarse and log-like, as (below this many seconds, bucket width): the
# bucket holding the median or p90 stays a small share of the rows, so storage/metrics.py
# reads exact values from that bucket only. Past 30 days buckets are weekly, capped.
LEAD_BANDS = ((3_600, 300), (86_400, 1_800), (604_800, 7_200), (2_592_000, 43_200))
LEAD_WEEKS_CAP = 52


def lead_bucket(lead: str) -> str:
    """The bucket of a lead time in plain integer SQL (no math functions, no Python
    functions: any SQLite client that writes changes must be able to run the triggers)."""
    whens = [f"WHEN {lead} IS NULL OR {lead} < 0 THEN NULL"]
    first = low = 0
    for high, width in LEAD_BANDS:
        whens.append(f"WHEN {lead} < {high} THEN {first} + ({lead} - {low}) / {width}")
        first, low = first + (high - low) // width, high
    whens.append(f"ELSE {first} + min(({lead} - {low}) / 604800, {LEAD_WEEKS_CAP})")
    return f"CASE {' '.join(whens)} END"


# Derived from the deploy by the triggers below: internal, not part of an exported change.
SHIPPED = ("shipped_at", "environment", "service", "lead_seconds", "lead_bucket")
SHIPPED_COLUMNS = f"({', '.join(SHIPPED)})"


def shipped(change: str) -> str:
    """What a change inherits from its deploy: only a successful deploy ships it."""
    return f"""SELECT at, environment, service, lead, {lead_bucket("lead")} FROM (
        SELECT d.deployed_at AS at, d.environment, d.service,
               unixepoch(d.deployed_at) - unixepoch({change}.authored_at) AS lead
        FROM deploys d WHERE d.id = {change}.deploy_id AND d.status = 'success')"""


# SPEC.md "Change failure rate": linked to an incident, or named in rollback_of by a later
# (or simultaneous) successful deploy, of any environment.
FAILED = """(EXISTS (SELECT 1 FROM incidents i WHERE i.deploy_id = d.id)
    OR EXISTS (SELECT 1 FROM deploys r WHERE r.rollback_of = d.id
               AND r.status = 'success' AND r.deployed_at >= d.deployed_at))"""
REWORK = "(d.is_hotfix OR d.rollback_of IS NOT NULL)"
WITH_CHANGES = "EXISTS (SELECT 1 FROM changes c WHERE c.deploy_id = d.id AND c.lead_seconds >= 0)"


def hour_rows(where: str, index: str | None = None) -> str:
    """deploy_hours rows computed from the successful deploys matching `where` (alias d),
    read through `index` when one is named (the SQL is otherwise the same).
    first_at and last_at (epoch seconds: converting text costs more than the rest of a
    report's read) give deploy days in any time zone: an hour holds at most one local
    midnight, so the local dates of its earliest and latest deploy are all its dates."""
    source = f"deploys d INDEXED BY {index}" if index else "deploys d"
    return f"""SELECT d.environment, substr(d.deployed_at, 1, 13) AS hour, count(*) AS deployments,
               sum({FAILED}) AS failed, sum({REWORK}) AS rework,
               sum({WITH_CHANGES}) AS with_changes,
               unixepoch(min(d.deployed_at)) AS first_at,
               unixepoch(max(d.deployed_at)) AS last_at
        FROM {source} WHERE d.status = 'success' AND {where}
        GROUP BY d.environment, hour"""


def _refresh_hour(environment: str, at: str) -> str:
    """Recompute the deploy_hours row of the hour holding `at` from the raw rows: simpler
    to keep right than increments, since a flag of one deploy depends on other rows."""
    hour = f"substr({at}, 1, 13)"
    where = (
        f"d.environment = {environment}"
        f" AND d.deployed_at BETWEEN {hour} || ':00:00Z' AND {hour} || ':59:59Z'"
    )
    return f"""DELETE FROM deploy_hours WHERE environment = {environment} AND hour = {hour};
        INSERT INTO deploy_hours {hour_rows(where)}"""


def _refresh_deploy_hour(deploy_id: str) -> str:
    return _refresh_hour(
        f"(SELECT environment FROM deploys WHERE id = {deploy_id})",
        f"(SELECT deployed_at FROM deploys WHERE id = {deploy_id})",
    )


def _ship(where: str) -> str:
    return f"UPDATE changes SET {SHIPPED_COLUMNS} = ({shipped('changes')}) WHERE {where}"


def _count_lead(row: str, step: int) -> str:
    day = f"substr({row}.shipped_at, 1, 10)"
    return f"""INSERT INTO lead_days (environment, day, bucket, changes)
            SELECT {row}.environment, {day}, {row}.lead_bucket, {step}
            WHERE {row}.lead_bucket IS NOT NULL
            ON CONFLICT DO UPDATE SET changes = changes + excluded.changes;
        DELETE FROM lead_days WHERE changes = 0 AND environment = {row}.environment
            AND day = {day} AND bucket = {row}.lead_bucket"""


def _trigger(name: str, event: str, *statements: str) -> str:
    body = ";\n".join(statements)
    return f"CREATE TRIGGER {name} {event} BEGIN\n{body};\nEND"


def _rollup_triggers() -> list[str]:
    lead_changed = " OR ".join(
        f"OLD.{c} IS NOT NEW.{c}"
        for c in ("shipped_at", "environment", "lead_seconds", "lead_bucket")
    )
    return [
        # A change's shipped columns, whoever links it: slash commands, the GitHub
        # importer, storage/deploys.delete unlinking before a delete, any SQLite client.
        # The inserted values are counted first, so that the re-ship below (which fires
        # changes_lead_days with them as OLD) nets out to the computed values.
        _trigger(
            "changes_ship_insert",
            "AFTER INSERT ON changes",
            _count_lead("NEW", 1),
            _ship("id = NEW.id"),
            _refresh_deploy_hour("NEW.deploy_id"),
        ),
        _trigger(
            "changes_ship_update",
            "AFTER UPDATE OF deploy_id, authored_at ON changes",
            _ship("id = NEW.id"),
        ),
        # Every change of the shipped columns, from the triggers above and below.
        _trigger(
            "changes_lead_days",
            f"AFTER UPDATE OF shipped_at, environment, lead_seconds, lead_bucket ON changes"
            f" WHEN {lead_changed}",
            _count_lead("OLD", -1),
            _count_lead("NEW", 1),
            _refresh_hour("OLD.environment", "OLD.shipped_at"),
            _refresh_hour("NEW.environment", "NEW.shipped_at"),
        ),
        _trigger(
            "changes_unship_delete",
            "AFTER DELETE ON changes",
            _count_lead("OLD", -1),
            _refresh_hour("OLD.environment", "OLD.shipped_at"),
        ),
        # A deploy's own hour, the hour it moves from, and its rollback target's hour: the
        # target fails only while a later successful deploy rolls it back.
        _trigger(
            "deploys_ship_insert",
            "AFTER INSERT ON deploys",
            _ship("deploy_id = NEW.id"),
            _refresh_hour("NEW.environment", "NEW.deployed_at"),
            _refresh_deploy_hour("NEW.rollback_of"),
        ),
        _trigger(
            "deploys_ship_update",
            "AFTER UPDATE OF status, deployed_at, environment, service ON deploys",
            _ship("deploy_id = NEW.id"),
            _refresh_hour("OLD.environment", "OLD.deployed_at"),
            _refresh_hour("NEW.environment", "NEW.deployed_at"),
            _refresh_deploy_hour("NEW.rollback_of"),
        ),
        _trigger(
            "deploys_rework_update",
            "AFTER UPDATE OF is_hotfix, rollback_of ON deploys",
            _refresh_hour("NEW.environment", "NEW.deployed_at"),
            _refresh_deploy_hour("OLD.rollback_of"),
            _refresh_deploy_hour("NEW.rollback_of"),
        ),
        # Changes still naming the deleted deploy (foreign keys off) are unshipped too.
        _trigger(
            "deploys_ship_delete",
            "AFTER DELETE ON deploys",
            _ship("deploy_id = OLD.id"),
            _refresh_hour("OLD.environment", "OLD.deployed_at"),
            _refresh_deploy_hour("OLD.rollback_of"),
        ),
        # An incident's link fails (or clears) its deploy.
        _trigger(
            "incidents_link_insert",
            "AFTER INSERT ON incidents WHEN NEW.deploy_id IS NOT NULL",
            _refresh_deploy_hour("NEW.deploy_id"),
        ),
        _trigger(
            "incidents_link_update",
            "AFTER UPDATE OF deploy_id ON incidents WHEN OLD.deploy_id IS NOT NEW.deploy_id",
            _refresh_deploy_hour("OLD.deploy_id"),
            _refresh_deploy_hour("NEW.deploy_id"),
        ),
        _trigger(
            "incidents_link_delete",
            "AFTER DELETE ON incidents WHEN OLD.deploy_id IS NOT NULL",
            _refresh_deploy_hour("OLD.deploy_id"),
        ),
    ]


@migrations()
def m003_metric_rollups(db: sqlite_utils.Database) -> None:
    # The report for all services read ~400k change rows per window into Python (seconds
    # on the scale benchmark). Instead, triggers keep each change's deploy facts and lead
    # time on the change, and per-day lead-bucket counts and per-hour deploy counts in
    # rollup tables; storage/metrics.py sums whole days and hours from the rollups, reads
    # raw rows only for the partial edges and reads exact lead values only from the bucket
    # holding each order statistic. Triggers, not application code, so every writer
    # (including other SQLite clients) keeps them right. lead_bucket is a plain column, not
    # a generated one: export lists columns with PRAGMA table_info, which hides generated
    # columns. Existing rows are backfilled set-based before the triggers exist.
    for column, kind in (
        ("shipped_at", "TEXT"),
        ("environment", "TEXT"),
        ("service", "TEXT"),
        ("lead_seconds", "INTEGER"),
        ("lead_bucket", "INTEGER"),
    ):
        db.execute(f"ALTER TABLE changes ADD COLUMN {column} {kind}")
    db.execute(_ship("deploy_id IS NOT NULL"))
    _run(
        db,
        f"""
        CREATE INDEX changes_shipped ON changes (environment, shipped_at, lead_bucket);
        CREATE INDEX changes_service_shipped
            ON changes (service, environment, shipped_at, lead_seconds);
        CREATE INDEX changes_lead_bucket
            ON changes (environment, lead_bucket, shipped_at, lead_seconds);
        CREATE TABLE lead_days (
            environment TEXT NOT NULL,
            day TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            changes INTEGER NOT NULL,
            PRIMARY KEY (environment, day, bucket)
        ) WITHOUT ROWID;
        INSERT INTO lead_days (environment, day, bucket, changes)
            SELECT environment, substr(shipped_at, 1, 10) AS day, lead_bucket, count(*)
            FROM changes WHERE lead_bucket IS NOT NULL
            GROUP BY environment, day, lead_bucket;
        CREATE TABLE deploy_hours (
            environment TEXT NOT NULL,
            hour TEXT NOT NULL,
            deployments INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            rework INTEGER NOT NULL,
            with_changes INTEGER NOT NULL,
            first_at INTEGER NOT NULL,
            last_at INTEGER NOT NULL,
            PRIMARY KEY (environment, hour)
        ) WITHOUT ROWID;
        INSERT INTO deploy_hours {hour_rows("1")}
        """,
    )
    for trigger in _rollup_triggers():
        db.execute(trigger)


@migrations()
def m004_github(db: sqlite_utils.Database) -> None:
    # github_deliveries: X-GitHub-Delivery ids already handled, so a redelivery is a no-op.
    # github_repos: per-repository settings (service name, incident label, what else counts
    #   as a deploy, scheduled sync) and the sync cursor.
    # github_deployments: the status applied to each GitHub deployment, so an older status
    #   that arrives late never overwrites a newer one ("the latest status wins").
    # github_pulls: merged pull requests by merge commit, kept apart from changes so a
    #   merge that arrives before its push still fills in merged_at, without giving the
    #   change an id (its place in push order) ahead of its own push.
    # changes_unshipped: the rows a deploy can still ship, read on every deploy.
    # deploys_repo_sha: finds the deploys of a commit when its push arrives after them.
    _run(
        db,
        """
        CREATE TABLE github_deliveries (
            delivery_id TEXT PRIMARY KEY,
            event TEXT NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE TABLE github_repos (
            repo TEXT PRIMARY KEY,
            service TEXT,
            incident_label TEXT,
            deploy_on TEXT NOT NULL DEFAULT 'deployments'
                CHECK (deploy_on IN ('deployments', 'release', 'workflow')),
            workflow TEXT,
            sync INTEGER NOT NULL DEFAULT 0 CHECK (sync IN (0, 1)),
            synced_at TEXT,
            updated_at TEXT NOT NULL,
            CHECK ((deploy_on = 'workflow') = (workflow IS NOT NULL))
        );
        CREATE TABLE github_deployments (
            deployment_id INTEGER PRIMARY KEY,
            repo TEXT NOT NULL,
            deploy_id INTEGER REFERENCES deploys(id) ON DELETE SET NULL,
            status_id INTEGER NOT NULL,
            status_at TEXT NOT NULL
        );
        CREATE TABLE github_pulls (
            repo TEXT NOT NULL,
            number INTEGER NOT NULL,
            merge_sha TEXT NOT NULL,
            merged_at TEXT NOT NULL,
            PRIMARY KEY (repo, number)
        );
        CREATE INDEX github_pulls_sha ON github_pulls (repo, merge_sha);
        CREATE INDEX changes_unshipped ON changes (repo, id) WHERE deploy_id IS NULL;
        CREATE INDEX deploys_repo_sha ON deploys (repo, sha)
        """,
    )


@migrations()
def m005_weekly_summaries(db: sqlite_utils.Database) -> None:
    # subscriptions: one weekly summary per channel; `day` is a day name (mon..sun) because
    # APScheduler 3 numbers weekdays from Monday = 0, unlike crontab. A subscription that
    # Slack refuses to post to (channel gone, bot removed) is disabled with the reason.
    # summary_claims: the exactly-once record of each channel's summary of an ISO week
    # (`week` is the week summarised, "2026-W47"). A process takes the row before posting
    # and deletes it if the post fails; message_ts is set once the post succeeded. A claim
    # with no message_ts whose lease has run out belongs to a process that died mid-post.
    _run(
        db,
        """
        CREATE TABLE subscriptions (
            channel_id TEXT PRIMARY KEY,
            day TEXT NOT NULL
                CHECK (day IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')),
            time TEXT NOT NULL,
            timezone TEXT NOT NULL,
            service TEXT,
            enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
            disabled_reason TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE summary_claims (
            channel_id TEXT NOT NULL,
            week TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            lease_until TEXT NOT NULL,
            holder TEXT NOT NULL,
            message_ts TEXT,
            posted_at TEXT,
            PRIMARY KEY (channel_id, week)
        )
        """,
    )


@migrations()
def m006_pulse_surveys(db: sqlite_utils.Database) -> None:
    # Anonymity by construction: pulse_answers never holds a user id, a Slack ts or a time.
    # While a round is open, pulse_responders maps a keyed hash of (round, user) to that
    # person's one answer, so a second answer replaces the first instead of counting twice.
    # Closing a round deletes its hash_key, its responders and its invites, so after close
    # nothing in the file links an answer to a person, not even by trying every user id.
    # pulse_invites: who was sent this round's DM (never twice, across restarts), and where.
    # slack_dm_channels: conversations.open answers, cached per person.
    # pulse_opt_outs: people who chose "Stop asking me".
    _run(
        db,
        """
        CREATE TABLE pulse_surveys (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel_id TEXT NOT NULL,
            audience_kind TEXT NOT NULL CHECK (audience_kind IN ('channel', 'usergroup')),
            audience_id TEXT NOT NULL,
            cadence TEXT NOT NULL CHECK (cadence IN ('weekly', 'biweekly')),
            day TEXT NOT NULL
                CHECK (day IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')),
            time TEXT NOT NULL,
            timezone TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            started_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            stopped_at TEXT
        );
        CREATE UNIQUE INDEX pulse_surveys_active ON pulse_surveys (channel_id) WHERE active = 1;
        CREATE TABLE pulse_rounds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            survey_id INTEGER NOT NULL REFERENCES pulse_surveys(id),
            opened_at TEXT NOT NULL,
            closes_at TEXT NOT NULL,
            closed_at TEXT,
            hash_key BLOB,
            invited INTEGER NOT NULL DEFAULT 0,
            reminded_at TEXT,
            CHECK ((closed_at IS NULL) = (hash_key IS NOT NULL))
        );
        CREATE INDEX pulse_rounds_survey ON pulse_rounds (survey_id, id);
        CREATE TABLE pulse_invites (
            round_id INTEGER NOT NULL REFERENCES pulse_rounds(id),
            user_id TEXT NOT NULL,
            dm_channel TEXT,
            message_ts TEXT,
            sent_at TEXT,
            reminded_at TEXT,
            PRIMARY KEY (round_id, user_id)
        );
        CREATE TABLE pulse_answers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            round_id INTEGER NOT NULL REFERENCES pulse_rounds(id),
            ease INTEGER CHECK (ease BETWEEN 1 AND 5),
            sinks TEXT NOT NULL DEFAULT '[]',
            comment TEXT
        );
        CREATE INDEX pulse_answers_round ON pulse_answers (round_id);
        CREATE TABLE pulse_responders (
            round_id INTEGER NOT NULL REFERENCES pulse_rounds(id),
            responder BLOB NOT NULL,
            answer_id INTEGER REFERENCES pulse_answers(id) ON DELETE SET NULL,
            skipped INTEGER NOT NULL DEFAULT 0 CHECK (skipped IN (0, 1)),
            PRIMARY KEY (round_id, responder)
        );
        CREATE TABLE pulse_opt_outs (
            user_id TEXT PRIMARY KEY,
            opted_out_at TEXT NOT NULL
        );
        CREATE TABLE slack_dm_channels (
            user_id TEXT PRIMARY KEY,
            channel_id TEXT NOT NULL
        )
        """,
    )


@migrations()
def m007_pulse_reminder_ts(db: sqlite_utils.Database) -> None:
    # The reminder is a DM of its own with the survey's buttons; its ts is kept (like the
    # first DM's) so that closing the round turns it into "this round has closed" too.
    db.execute("ALTER TABLE pulse_invites ADD COLUMN reminder_ts TEXT")


@migrations()
def m008_incident_channel_privacy(db: sqlite_utils.Database) -> None:
    # Whether the channel an incident was opened in is private, as Slack's conversations.info
    # said after the command was answered: 1 private (or a DM), 0 public, NULL not known.
    # Only a channel Slack confirmed public shows the title elsewhere, so the incidents
    # recorded before this migration, and any whose answer never came, stay hidden outside
    # their own channel rather than risk showing a private title in a public one.
    db.execute(
        "ALTER TABLE incidents ADD COLUMN channel_private INTEGER CHECK (channel_private IN (0, 1))"
    )


@migrations()
def m009_pulse_round_source_key(db: sqlite_utils.Database) -> None:
    # The `/pulse now` that opened a round (team:channel:trigger_id), like a deploy's
    # source_key: Slack's retry of the same command finds its round instead of opening
    # another. Scheduled rounds have none.
    _run(
        db,
        """
        ALTER TABLE pulse_rounds ADD COLUMN source_key TEXT;
        CREATE UNIQUE INDEX pulse_rounds_source_key ON pulse_rounds (source_key)
            WHERE source_key IS NOT NULL
        """,
    )


@migrations()
def m010_sources(db: sqlite_utils.Database) -> None:
    # For the sources beside GitHub (the HTTP API, GitLab, PagerDuty):
    # - source_deliveries: each delivery or event id handled once per source; claimed in the
    #   transaction that records it, so a failed delivery can be delivered again.
    # - source_settings: how one of a source's projects or services is counted (GitLab
    #   GROUP/PROJECT, PagerDuty service name or id): its Shipshape service, the incident
    #   label, and the channel its incident cards are posted in.
    # - incidents.url: the incident's page in the tool it came from (PagerDuty, GitLab).
    _run(
        db,
        """
        CREATE TABLE source_deliveries (
            source TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (source, delivery_id)
        );
        CREATE TABLE source_settings (
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            service TEXT,
            incident_label TEXT,
            channel_id TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (source, key)
        );
        ALTER TABLE incidents ADD COLUMN url TEXT
        """,
    )
    _widen_source_checks(db)


@migrations()
def m011_teams(db: sqlite_utils.Database) -> None:
    # Teams: named sets of services (SPEC.md "Teams"). A service may be in several teams,
    # and may be named before it has deployed, so team_services.service is plain text, not
    # a reference. Removing a team removes its services with it.
    # channel_scopes: what a plain `/dora` answers in a channel, one team or one service;
    # a channel without a row answers for all services.
    # subscriptions.team: a weekly summary over a team's services (service is then NULL).
    _run(
        db,
        """
        CREATE TABLE teams (
            name TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE team_services (
            team TEXT NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
            service TEXT NOT NULL,
            PRIMARY KEY (team, service)
        );
        CREATE TABLE channel_scopes (
            channel_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('team', 'service')),
            name TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at TEXT NOT NULL
        );
        CREATE INDEX channel_scopes_name ON channel_scopes (kind, name);
        ALTER TABLE subscriptions ADD COLUMN team TEXT
            CHECK (team IS NULL OR service IS NULL)
        """,
    )


OLD_SOURCES = "CHECK (source IN ('slack', 'github', 'import'))"
SOURCES = "CHECK (source IN ('slack', 'github', 'gitlab', 'pagerduty', 'api', 'import'))"


def _widen_source_checks(db: sqlite_utils.Database) -> None:
    """Let deploys, changes and incidents come from the new sources. Only a CHECK constraint
    changes, which SQLite's documentation allows by editing the stored schema text (no
    table rebuild, so the rollup triggers and indexes stay as they are): in the same
    transaction, with the schema version bumped so every connection re-reads it."""
    (version,) = db.execute("PRAGMA schema_version").fetchone()
    db.execute("PRAGMA writable_schema = ON")
    db.execute(
        "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) "
        "WHERE type = 'table' AND name IN ('deploys', 'changes', 'incidents')",
        (OLD_SOURCES, SOURCES),
    )
    db.execute(f"PRAGMA schema_version = {version + 1}")
    db.execute("PRAGMA writable_schema = OFF")
