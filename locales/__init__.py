"""The gettext catalogs (``<lang>/LC_MESSAGES/uabot.po``), installed as package ``uabot_locales``.

A package only so that a wheel carries the catalogs beside the code; ``bot.i18n`` finds them
through it. The ``.po`` files are compiled in memory at start.
"""
