"""The session message while a session runs: edits when something it shows changed.

``changed`` is the one call for "a count of this session moved" (a confirmation in the
group or in a private chat): it asks for an edit, which the group's pacing then schedules.
"""

from __future__ import annotations

from telegram.ext import Application


async def changed(app: Application, session_id: int) -> None:
    """Something the session message shows changed: have it edited (paced per group).

    Placeholder until the live session message is built; callers may rely on the name.
    """


def stop(app: Application, session_id: int) -> None:
    """Cancel a session's jobs (its countdown, its end, a planned edit): the bot was removed
    from the group, so nothing can be posted there any more.

    Placeholder until the live session message is built; callers may rely on the name.
    """
