-- PostgreSQL's form of migrations/014_scale.sql: the same counters, kept by one PL/pgSQL
-- trigger function instead of SQLite's three triggers.
ALTER TABLE broadcasts ADD COLUMN enqueue_after BIGINT;
ALTER TABLE broadcasts ADD COLUMN audience TEXT;

CREATE TABLE user_counts (
    language   TEXT   NOT NULL,
    subscribed BIGINT NOT NULL,
    blocked    BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (language, subscribed, blocked)
);

INSERT INTO user_counts (language, subscribed, blocked, n)
SELECT language, subscribed, (blocked_at IS NOT NULL)::int, COUNT(*) FROM users GROUP BY 1, 2, 3;

-- One statement per change, its rows taken in key order: a language switch moves one user
-- between two counter rows, and two users switching opposite ways at once (en->fr, fr->en) would
-- deadlock if each took its old row first and its new row second.
CREATE FUNCTION user_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_counts (language, subscribed, blocked, n)
        VALUES (NEW.language, NEW.subscribed, (NEW.blocked_at IS NOT NULL)::int, 1)
        ON CONFLICT (language, subscribed, blocked) DO UPDATE SET n = user_counts.n + 1;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE user_counts SET n = n - 1
        WHERE language = OLD.language AND subscribed = OLD.subscribed
          AND blocked = (OLD.blocked_at IS NOT NULL)::int;
    ELSIF OLD.language IS DISTINCT FROM NEW.language OR OLD.subscribed IS DISTINCT FROM NEW.subscribed
          OR (OLD.blocked_at IS NULL) <> (NEW.blocked_at IS NULL) THEN
        INSERT INTO user_counts AS c (language, subscribed, blocked, n)
        SELECT * FROM (VALUES
            (OLD.language, OLD.subscribed, (OLD.blocked_at IS NOT NULL)::int, -1::bigint),
            (NEW.language, NEW.subscribed, (NEW.blocked_at IS NOT NULL)::int, 1::bigint)
        ) AS change (language, subscribed, blocked, n)
        ORDER BY language, subscribed, blocked
        ON CONFLICT (language, subscribed, blocked) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER user_counts_keep AFTER INSERT OR DELETE OR UPDATE OF language, subscribed, blocked_at
ON users FOR EACH ROW EXECUTE FUNCTION user_counts_keep();

CREATE INDEX users_last_seen ON users (last_seen);
