"""python-telegram-bot plumbing: how the bot talks to Telegram, with no domain and no SQL.

What belongs here: the request backend (``http``), the one classifier of Bot API answers
(``errors``), MarkdownV2 escaping and message splitting (``text``), the button registry
(``callbacks``), the command menus (``commands``), PTB's persistence (``persistence``), the
typed handler context (``context``) and the removal of secrets from URLs and errors
(``redact``). A module that decides something about letters, actions or subscribers belongs
in ``bot.services`` (or ``actions``/``letters``/``broadcast``) instead.
"""
