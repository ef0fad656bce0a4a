-- PostgreSQL's form of migrations/004_persistence.sql.
CREATE TABLE conversations (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (name, key)
);

CREATE TABLE user_data (
    user_id BIGINT PRIMARY KEY,
    data    TEXT NOT NULL
);
