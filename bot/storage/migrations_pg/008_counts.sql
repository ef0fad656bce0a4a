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
