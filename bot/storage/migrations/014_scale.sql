-- A million subscribers on one machine (issue 16).

-- A broadcast to many is queued in chunks while it sends, so its first message goes out at
-- once: the last user id queued so far (NULL: everyone is queued) and whom it reaches (the
-- JSON of bot.storage.selections.Audience; NULL: every reachable subscriber).
ALTER TABLE broadcasts ADD COLUMN enqueue_after INTEGER;
ALTER TABLE broadcasts ADD COLUMN audience TEXT;

-- /stats counts subscribers without reading every row: how many users per language and
-- state, kept by the triggers below whatever changes a user.
CREATE TABLE user_counts (
    language   TEXT    NOT NULL,
    subscribed INTEGER NOT NULL,
    blocked    INTEGER NOT NULL,  -- 1: blocked_at is set (unreachable)
    n          INTEGER NOT NULL,
    PRIMARY KEY (language, subscribed, blocked)
) WITHOUT ROWID;

INSERT INTO user_counts (language, subscribed, blocked, n)
SELECT language, subscribed, blocked_at IS NOT NULL, COUNT(*) FROM users GROUP BY 1, 2, 3;

CREATE TRIGGER user_counts_insert AFTER INSERT ON users
BEGIN
    INSERT INTO user_counts (language, subscribed, blocked, n)
    VALUES (NEW.language, NEW.subscribed, NEW.blocked_at IS NOT NULL, 1)
    ON CONFLICT (language, subscribed, blocked) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER user_counts_delete AFTER DELETE ON users
BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE language = OLD.language AND subscribed = OLD.subscribed
      AND blocked = (OLD.blocked_at IS NOT NULL);
END;

CREATE TRIGGER user_counts_update AFTER UPDATE OF language, subscribed, blocked_at ON users
WHEN OLD.language IS NOT NEW.language OR OLD.subscribed IS NOT NEW.subscribed
  OR (OLD.blocked_at IS NULL) IS NOT (NEW.blocked_at IS NULL)
BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE language = OLD.language AND subscribed = OLD.subscribed
      AND blocked = (OLD.blocked_at IS NOT NULL);
    INSERT INTO user_counts (language, subscribed, blocked, n)
    VALUES (NEW.language, NEW.subscribed, NEW.blocked_at IS NOT NULL, 1)
    ON CONFLICT (language, subscribed, blocked) DO UPDATE SET n = n + 1;
END;

-- Who used the bot in the last 30 days, counted from an index rather than the table.
CREATE INDEX users_last_seen ON users (last_seen);
