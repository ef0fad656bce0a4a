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

CREATE FUNCTION user_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_OP = 'UPDATE' AND OLD.language IS NOT DISTINCT FROM NEW.language
           AND OLD.subscribed IS NOT DISTINCT FROM NEW.subscribed
           AND (OLD.blocked_at IS NULL) = (NEW.blocked_at IS NULL) THEN
            RETURN NULL;
        END IF;
        UPDATE user_counts SET n = n - 1
        WHERE language = OLD.language AND subscribed = OLD.subscribed
          AND blocked = (OLD.blocked_at IS NOT NULL)::int;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO user_counts (language, subscribed, blocked, n)
        VALUES (NEW.language, NEW.subscribed, (NEW.blocked_at IS NOT NULL)::int, 1)
        ON CONFLICT (language, subscribed, blocked) DO UPDATE SET n = user_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER user_counts_keep AFTER INSERT OR DELETE OR UPDATE OF language, subscribed, blocked_at
ON users FOR EACH ROW EXECUTE FUNCTION user_counts_keep();

CREATE INDEX users_last_seen ON users (last_seen);
