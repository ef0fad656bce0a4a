-- "I sent it": at most one confirmation per user per revision. /forget sets user_id to NULL,
-- so the counts stay and the link to the person goes (NULLs never collide in UNIQUE).
CREATE TABLE confirmations (
    case_number     TEXT    NOT NULL,
    revision        INTEGER NOT NULL,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    letter_language TEXT    NOT NULL,
    confirmed_on    TEXT    NOT NULL DEFAULT (date('now')),
    UNIQUE (case_number, revision, user_id)
);
CREATE INDEX confirmations_case ON confirmations (case_number, revision);
