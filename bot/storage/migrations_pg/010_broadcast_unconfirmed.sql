-- PostgreSQL's form of migrations/010_broadcast_unconfirmed.sql.
ALTER TABLE broadcasts ADD COLUMN unconfirmed BIGINT NOT NULL DEFAULT 0;
