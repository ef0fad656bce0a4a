-- Deadline reminders: who opened a case (its card, "read more" or its letter) and, once
-- reminded, for which revision, so that nobody is reminded twice for one revision.
-- The rows go with the user (/forget) and say nothing the bot does not need for that.
ALTER TABLE users ADD COLUMN reminders INTEGER NOT NULL DEFAULT 1;

CREATE TABLE interest (
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_number       TEXT    NOT NULL,
    reminded_revision INTEGER,
    PRIMARY KEY (user_id, case_number)
) WITHOUT ROWID;

-- The feed: what it already handled, by the source's key (file path or URL) and a hash of
-- the bytes, so an unchanged file (valid or not) is handled once, not at every poll.
CREATE TABLE feed_items (
    source_key  TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    handled_at  TEXT NOT NULL DEFAULT (datetime('now'))
) WITHOUT ROWID;

-- What scheduled jobs must remember across restarts (e.g. the feed's last poll).
CREATE TABLE job_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
