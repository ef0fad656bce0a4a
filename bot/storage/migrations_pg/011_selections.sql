-- PostgreSQL's form of migrations/011_selections.sql.
CREATE TABLE selections (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT   NOT NULL CHECK (kind IN ('topic', 'country', 'region')),
    code    TEXT   NOT NULL,
    PRIMARY KEY (user_id, kind, code)
);

CREATE INDEX selections_code ON selections (kind, code, user_id);
