-- Several instances on one database (issue 16 §4): each write of a conversation's state or of
-- a user's data names the version its writer last read, so an instance whose view is old (its
-- timeout fired after another instance took a later step; a task of an update that ended
-- there) changes nothing. SQLite has one instance; the columns keep one schema on both.
ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_data ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
