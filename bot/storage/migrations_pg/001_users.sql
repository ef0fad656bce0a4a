-- PostgreSQL's form of migrations/001_users.sql (same number, same meaning): BIGINT for ids
-- and flags (Telegram ids exceed 32 bits), days and times as the same ISO text SQLite keeps.
CREATE TABLE users (
    id          BIGINT  PRIMARY KEY,
    language    TEXT    NOT NULL,
    subscribed  BIGINT  NOT NULL DEFAULT 1,
    blocked_at  TEXT,
    created_at  TEXT    NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
    last_seen   TEXT    NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')
);
CREATE INDEX users_reachable ON users (subscribed, blocked_at);
