-- Who among the admins did what, and when: import, publish, discard, close, announce, export.
-- admin_id is NULL for the command line.
CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       TEXT    NOT NULL DEFAULT (datetime('now')),
    admin_id INTEGER,
    action   TEXT    NOT NULL,
    subject  TEXT    NOT NULL DEFAULT ''
);
