-- PostgreSQL's form of migrations/006_scheduling.sql.
ALTER TABLE users ADD COLUMN reminders BIGINT NOT NULL DEFAULT 1;

CREATE TABLE interest (
    user_id           BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_number       TEXT   NOT NULL,
    reminded_revision BIGINT,
    PRIMARY KEY (user_id, case_number)
);

CREATE TABLE feed_items (
    source_key  TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    handled_at  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
);

CREATE TABLE job_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
