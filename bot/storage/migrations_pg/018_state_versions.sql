-- PostgreSQL's form of migrations/018_state_versions.sql.
ALTER TABLE conversations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE user_data ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
