-- The admin command menus the bot set (a chat scope of setMyCommands, per language, with ''
-- for the menu of every other language), so that a start deletes those of chats no longer
-- admins.
CREATE TABLE admin_menus (
    chat_id       INTEGER NOT NULL,
    language_code TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (chat_id, language_code)
);
