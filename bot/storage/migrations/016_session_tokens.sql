-- Writing sessions after review (issue 15). A session's "Write my letter" link names it by an
-- unguessable token, not by its row id (sequential: guessed, it let anyone outside the group
-- count letters in that group's session and see its case). Rows from before get one here;
-- new ones from bot.services.sessions (Python's secrets).
ALTER TABLE sessions ADD COLUMN token TEXT;
UPDATE sessions SET token = lower(hex(randomblob(16))) WHERE token IS NULL;
CREATE UNIQUE INDEX sessions_token ON sessions (token);

-- Who came through a running session's link (its token): their letters count in it. Kept
-- only while the session runs, as session_writers: ending it deletes its rows in the same
-- transaction, so nothing links a person to a group's session afterwards. Letter drafts
-- (user_data) no longer name the session: they outlived it.
CREATE TABLE session_members (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, user_id)
) WITHOUT ROWID;

-- A draft begun from a running session keeps counting there; every draft forgets its session.
INSERT OR IGNORE INTO session_members (session_id, user_id)
SELECT json_extract(data, '$.letter.session'), user_id FROM user_data
WHERE json_extract(data, '$.letter.session') IN (SELECT id FROM sessions WHERE ended_at IS NULL)
    AND user_id IN (SELECT id FROM users);
UPDATE user_data SET data = json_remove(data, '$.letter.session')
WHERE json_type(data, '$.letter.session') IS NOT NULL;
