"""Domain write services: one function per write, called alike by handlers, jobs and the CLI.

Handlers translate Telegram into one call here and its result into one reply; the transaction
and the rules live here (and in the storage), never in a handler.
"""
