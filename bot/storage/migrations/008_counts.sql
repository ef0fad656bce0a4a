-- "One of N people": a person who confirmed letters for several revisions of a case is one
-- person. first_for_case marks a person's first confirmation of a case, so SUM() counts
-- people even after /forget unlinked the rows (user_id NULL): no link is kept to do it.
ALTER TABLE confirmations ADD COLUMN first_for_case INTEGER NOT NULL DEFAULT 1;

UPDATE confirmations SET first_for_case = 0
WHERE user_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM confirmations earlier
    WHERE earlier.case_number = confirmations.case_number
      AND earlier.user_id = confirmations.user_id
      AND earlier.rowid < confirmations.rowid
);

-- A deadline reminder is claimed for a while (a lease) before it is sent and marked sent only
-- once Telegram accepted it: a crash between the two leaves a lease that runs out, and the
-- next run sends it, and two overlapping runs never both send it.
ALTER TABLE interest ADD COLUMN claimed_until REAL;

-- A person's confirmations of a case: the first-for-case check above, the reminder's and the
-- closure's "did they write for this case" and /mine all look them up by person and case.
CREATE INDEX confirmations_person ON confirmations (user_id, case_number);
