-- PostgreSQL's form of migrations/015_session_tokens.sql (gen_random_uuid's 32 hex digits for
-- SQLite's randomblob(16); jsonb paths for json_extract/json_remove).
ALTER TABLE sessions ADD COLUMN token TEXT;
UPDATE sessions SET token = replace(gen_random_uuid()::text, '-', '') WHERE token IS NULL;
CREATE UNIQUE INDEX sessions_token ON sessions (token);

CREATE TABLE session_members (
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, user_id)
);

INSERT INTO session_members (session_id, user_id)
SELECT (data::jsonb #>> '{letter,session}')::bigint, user_id FROM user_data
WHERE (data::jsonb #>> '{letter,session}')::bigint IN (SELECT id FROM sessions WHERE ended_at IS NULL)
    AND user_id IN (SELECT id FROM users)
ON CONFLICT DO NOTHING;
UPDATE user_data SET data = (data::jsonb #- '{letter,session}')::text
WHERE data::jsonb #> '{letter,session}' IS NOT NULL;
