-- PostgreSQL's form of migrations/007_broadcast_pause.sql.
ALTER TABLE broadcasts ADD COLUMN paused_at DOUBLE PRECISION;
ALTER TABLE broadcasts ADD COLUMN pause_reason TEXT;
ALTER TABLE broadcasts ADD COLUMN reported_at DOUBLE PRECISION;
UPDATE broadcasts SET reported_at = finished_at WHERE finished_at IS NOT NULL;
