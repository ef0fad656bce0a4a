-- A recipient whose message went out twice without Telegram's answer (a slow link: the read
-- timed out, the message may well have arrived) is not sent a third copy: they are counted as
-- unconfirmed. The outbox marks the first such send with state 6 (still owed one more try),
-- the second with state 5 (unconfirmed). A finished broadcast keeps the count here.
ALTER TABLE broadcasts ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0
