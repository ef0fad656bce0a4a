-- Every imported revision of every case, as the canonical JSON of its action file.
-- published_at NULL marks a draft: imported, previewed, not yet broadcast.
CREATE TABLE revisions (
    case_number  TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    content      TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    issued       TEXT    NOT NULL,
    imported_at  TEXT    NOT NULL DEFAULT (datetime('now')),
    published_at TEXT,
    PRIMARY KEY (case_number, revision)
);

-- A broadcast delivers one message to every subscriber: a published revision (kind 'action')
-- or, later, other kinds whose texts are kept in payload (JSON).
-- The outcome counters are filled in when it finishes, and its outbox rows are then dropped:
-- after delivery the bot keeps no record of who received what.
CREATE TABLE broadcasts (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL DEFAULT 'action',
    case_number  TEXT,
    revision     INTEGER,
    payload      TEXT,
    requested_by INTEGER,
    total        INTEGER NOT NULL DEFAULT 0,
    delivered    INTEGER NOT NULL DEFAULT 0,
    unreachable  INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT    NOT NULL DEFAULT (datetime('now')),
    started_at   REAL,
    finished_at  REAL,
    FOREIGN KEY (case_number, revision) REFERENCES revisions (case_number, revision)
);

-- One row per recipient of a running broadcast.
-- state: 0 pending, 1 delivered, 2 unreachable, 3 failed, 4 skipped (paused since).
CREATE TABLE outbox (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state        INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (broadcast_id, user_id)
) WITHOUT ROWID;
