-- Writing sessions in groups. Privacy by design: the group sees counts only, and once a
-- session has ended the database keeps its group id, case, start, duration and count, and
-- no user id. group_id is no foreign key: a session's counts outlive the group's row (the bot
-- removed), for /stats: a migration to a supergroup changes it with the group's row.
-- Times are Unix seconds (REAL), as the jobs that end sessions are scheduled in them:
-- ends_at is kept beside minutes (what the group asked for) as the one time a restart reads.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    group_id    INTEGER NOT NULL,
    case_number TEXT    NOT NULL,
    started_at  REAL    NOT NULL,
    minutes     INTEGER NOT NULL CHECK (minutes > 0),
    ends_at     REAL    NOT NULL,
    message_id  INTEGER,
    pinned      INTEGER NOT NULL DEFAULT 0,
    ended_at    REAL,
    letters     INTEGER NOT NULL DEFAULT 0 CHECK (letters >= 0)
);

-- One running session per group at most: enforced here, not only by the service.
CREATE UNIQUE INDEX sessions_running ON sessions (group_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_group ON sessions (group_id, started_at);

-- Who has counted a letter for a running session, so that nobody counts twice in it. Only
-- while it runs: ending the session deletes its rows in the same transaction that writes
-- ended_at and the final count, so no user id is left beside a finished session. /forget
-- deletes a person's rows at once (ON DELETE CASCADE): the count stays.
CREATE TABLE session_writers (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, user_id)
) WITHOUT ROWID;
