-- A broadcast waits out an outage instead of failing its recipients: paused_at says since when
-- it waits for Telegram, pause_reason what it saw (an error's words, for /broadcasts and logs).
-- reported_at: when the final report reached the admins. A report is retried until then, also
-- across restarts. Broadcasts finished before this migration count as reported.
ALTER TABLE broadcasts ADD COLUMN paused_at REAL;
ALTER TABLE broadcasts ADD COLUMN pause_reason TEXT;
ALTER TABLE broadcasts ADD COLUMN reported_at REAL;
UPDATE broadcasts SET reported_at = finished_at WHERE finished_at IS NOT NULL
