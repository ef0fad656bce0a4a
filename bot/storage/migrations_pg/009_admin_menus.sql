-- PostgreSQL's form of migrations/009_admin_menus.sql.
CREATE TABLE admin_menus (
    chat_id       BIGINT NOT NULL,
    language_code TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (chat_id, language_code)
);
