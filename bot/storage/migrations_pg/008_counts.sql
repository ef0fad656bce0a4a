-- PostgreSQL's form of migrations/008_counts.sql.
ALTER TABLE confirmations ADD COLUMN first_for_case BIGINT NOT NULL DEFAULT 1;

UPDATE confirmations SET first_for_case = 0
WHERE rowid IN (
    SELECT rowid FROM (
        SELECT rowid, ROW_NUMBER() OVER (
            PARTITION BY case_number, user_id ORDER BY rowid
        ) AS nth
        FROM confirmations
        WHERE user_id IS NOT NULL
    ) numbered
    WHERE nth > 1
);

ALTER TABLE interest ADD COLUMN claimed_until DOUBLE PRECISION;

CREATE INDEX confirmations_person ON confirmations (user_id, case_number);
-- One first confirmation per person and case, enforced: two confirmations of one person for two
-- revisions at once (two connections) would otherwise both see none before them and both count
-- as the first (Tally.confirm writes the second again as not the first). SQLite's one writer
-- makes its single statement atomic already.
CREATE UNIQUE INDEX confirmations_first ON confirmations (case_number, user_id)
WHERE first_for_case = 1;
