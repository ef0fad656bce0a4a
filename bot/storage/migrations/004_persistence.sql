-- python-telegram-bot's persistence: conversation states and per-user data, so that a letter
-- half written survives a restart. user_data holds a letter draft only while it is written,
-- and a supporter's sender details only when they asked the bot to remember them.
CREATE TABLE conversations (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,    -- JSON of PTB's key tuple
    state TEXT NOT NULL,    -- JSON
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE user_data (
    user_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL   -- JSON
);
