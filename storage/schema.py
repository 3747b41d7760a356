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
