-- PostgreSQL's form of migrations/012_groups.sql.
CREATE TABLE groups (
    chat_id  BIGINT PRIMARY KEY,
    language TEXT   NOT NULL,
    added_at TEXT   NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
);
