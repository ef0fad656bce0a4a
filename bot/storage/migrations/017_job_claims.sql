-- Several instances on one database (issue 16 §4, PostgreSQL): a scheduled run (the feed
-- poll, the reminders, a backup) or a group's writing session is claimed here by the
-- instance that does it, until ``until`` (seconds since the epoch). Whoever's conditional
-- upsert changes the row wins; a dead instance's claim runs out and another takes it.
-- SQLite (one instance) never writes it.
CREATE TABLE job_claims (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  REAL NOT NULL
);
