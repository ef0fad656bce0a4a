-- PostgreSQL's form of migrations/017_job_claims.sql.
CREATE TABLE job_claims (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  DOUBLE PRECISION NOT NULL
);
