"""``uabot sandbox``: the real bot against the emulator, behind a local web chat.

A newcomer (or a reviewer) can talk to the bot as three supporters and an admin, and write in
a group chat (the supporters and the group's admin) as any of its members, without a
Telegram account, a token or a network: everything runs in one process on 127.0.0.1.
"""

from .server import HOST, Sandbox, SandboxUser, sandbox

__all__ = ["HOST", "Sandbox", "SandboxUser", "sandbox"]
