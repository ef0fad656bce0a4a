-- What a subscriber follows (/topics): no row means everything (the default), otherwise every
-- new case that names one of their topics, or whose country is one of their countries or lies
-- in one of their regions (a CLDR region code such as '150' for Europe, kept as its code and
-- matched against the case's country's regions when a broadcast is queued: a later CLDR that
-- moves a country moves it for every follower at once). The rows go with the user (/forget).
CREATE TABLE selections (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL CHECK (kind IN ('topic', 'country', 'region')),
    code    TEXT    NOT NULL,
    PRIMARY KEY (user_id, kind, code)
) WITHOUT ROWID;

-- The followers of one topic, country or region (/stats, and the reach of a case).
CREATE INDEX selections_code ON selections (kind, code, user_id);
