-- Supporters. Deliberately minimal: no names, no usernames, no phone numbers.
-- last_seen is a day, not a timestamp: enough to prune inactive users, too coarse to profile.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,            -- Telegram user id (= private chat id)
    language    TEXT    NOT NULL,
    subscribed  INTEGER NOT NULL DEFAULT 1,     -- 0 = paused by the user (/unsubscribe)
    blocked_at  TEXT,                           -- set when Telegram says we cannot reach them
    created_at  TEXT    NOT NULL DEFAULT (date('now')),
    last_seen   TEXT    NOT NULL DEFAULT (date('now'))
);
CREATE INDEX users_reachable ON users (subscribed, blocked_at);
