-- PostgreSQL's form of migrations/018_conversation_versions.sql.
ALTER TABLE conversations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
