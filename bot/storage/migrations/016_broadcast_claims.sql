-- Several instances on one PostgreSQL database drain a broadcast together (issue 16 §4).
-- An outbox row is claimed by one instance (claimed_by) until claimed_until: a lease, so a
-- dead instance's recipients come back to the others. A final report is claimed the same way
-- (report_claimed_until, report_claimed_by), so one instance sends it. broadcast_pace.next_at:
-- the first send time of the whole bot's broadcast budget not yet reserved by an instance.
-- SQLite runs one instance (its lock file refuses a second): it has these and never uses them.
ALTER TABLE outbox ADD COLUMN claimed_until REAL;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE broadcasts ADD COLUMN report_claimed_until REAL;
ALTER TABLE broadcasts ADD COLUMN report_claimed_by TEXT;
CREATE TABLE broadcast_pace (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    next_at REAL    NOT NULL
);
INSERT INTO broadcast_pace (id, next_at) VALUES (1, 0);
