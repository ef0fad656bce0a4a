-- PostgreSQL's form of migrations/016_broadcast_claims.sql: recipients and final reports
-- claimed under a lease (times: epoch seconds of the database's clock), and the next free send
-- time of the whole bot's broadcast budget. The claim reads the sendable rows of a broadcast in
-- user order: the index keeps that short once most of the outbox is done.
ALTER TABLE outbox ADD COLUMN claimed_until DOUBLE PRECISION;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE broadcasts ADD COLUMN report_claimed_until DOUBLE PRECISION;
ALTER TABLE broadcasts ADD COLUMN report_claimed_by TEXT;
CREATE TABLE broadcast_pace (
    id      BIGINT           PRIMARY KEY CHECK (id = 1),
    next_at DOUBLE PRECISION NOT NULL
);
INSERT INTO broadcast_pace (id, next_at) VALUES (1, 0);
CREATE INDEX outbox_sendable ON outbox (broadcast_id, user_id) WHERE state IN (0, 6);
