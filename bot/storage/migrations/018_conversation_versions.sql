-- Several instances on one database (issue 16 §4): each write of a conversation's state
-- names the version its writer last saw, so an instance whose view is old (its timeout fired
-- after another instance handled a later step) changes nothing. SQLite has one instance; the
-- column is kept for the same schema on both engines.
ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
