-- The Telegram groups the bot is a member of (writing sessions, issue 15). Only what the bot
-- needs to speak in a group: its chat id and language, and since when. No title, no members.
-- The row goes when the bot is removed (my_chat_member): its sessions stay, as counts (013).
-- A group that becomes a supergroup gets a new chat id: the row's id is changed in place.
CREATE TABLE groups (
    chat_id  INTEGER PRIMARY KEY,
    language TEXT    NOT NULL,
    added_at TEXT    NOT NULL DEFAULT (datetime('now'))
);
