"""`python -m bot` is the same as the `uabot` command."""

from bot.cli import main

raise SystemExit(main())
