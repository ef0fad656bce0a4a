"""How often a group's session message may be edited: a pure clock-in, time-out component.

Every confirmation wants the message edited at once and the countdown once a minute, but a
group takes only so many messages a minute from a bot. The pacer spaces the edits of one chat
evenly within that budget and merges updates that come while an edit is already planned into
that edit (it renders whatever is current when it runs), so no count is ever lost and no
update waits longer than one spacing.

Replies to commands in the group (``reply_at``) share the budget: they may come in a burst,
but take at most ``replies`` messages of a window and never the place of an edit that is due,
and the same answer (its key) waits once while it has no place: a member flooding the group
with commands never brings Telegram's 429 onto the group, let alone onto the whole bot.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

# Telegram's limit for a bot in one group: "no more than 20 messages per minute in the same
# group" (Bot FAQ); edits count as messages there, and beyond it Telegram answers 429 with a
# retry_after for the whole chat. Every message to the group is told to the pacer (``sent``).
GROUP_MESSAGES_PER_MINUTE = 20
WINDOW_SECONDS = 60.0
# Replies in a group (the intro, /help, a refusal) take at most this many of a window's
# messages: the rest stays the session message's, whoever floods the group with commands.
REPLIES_PER_WINDOW = 15


@dataclass
class _Chat:
    sent: deque[float] = field(default_factory=deque)  # send times within the last window
    planned: float | None = None  # when the next edit goes, if one is planned
    held_until: float = 0.0  # Telegram answered 429: nothing goes to the chat before this
    answered: dict[str, float] = field(default_factory=dict)  # a reply's key: when it went
    waiting: set[str] = field(default_factory=set)  # keys of replies waiting for a place


class EditPacer:
    """Per chat: at most ``per_minute`` sends in any ``window`` seconds, spaced evenly."""

    def __init__(
        self,
        per_minute: int = GROUP_MESSAGES_PER_MINUTE,
        window: float = WINDOW_SECONDS,
        replies: int = REPLIES_PER_WINDOW,
    ) -> None:
        if per_minute < 1 or window <= 0:
            raise ValueError("per_minute must be at least 1 and window more than 0")
        self.per_minute = per_minute
        self.replies = max(1, min(replies, per_minute - 1))
        self.window = window
        self.spacing = window / per_minute
        self._chats: dict[int, _Chat] = {}

    def request(self, chat_id: int, now: float) -> float | None:
        """Something the message shows changed: the time to edit it at (``now`` or later),
        or None when an edit is planned already and will show it (merged)."""
        chat = self._chats.setdefault(chat_id, _Chat())
        if chat.planned is not None:
            return None
        chat.planned = self.next_slot(chat_id, now)
        return chat.planned

    def next_slot(self, chat_id: int, now: float) -> float:
        """The earliest time at or after ``now`` a message may go to the chat."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return now
        if not chat.sent:
            return max(now, chat.held_until)
        slot = max(now, chat.held_until, chat.sent[-1] + self.spacing)
        if len(chat.sent) >= self.per_minute:  # messages sent outside the plan count too
            slot = max(slot, chat.sent[-self.per_minute] + self.window)
        return slot

    def sent(self, chat_id: int, now: float) -> None:
        """A message or an edit went to the chat (a planned edit, or any other message):
        it counts against the budget and ends the planned edit, if any."""
        chat = self._chats.setdefault(chat_id, _Chat())
        chat.sent.append(now)
        self._expire(chat, now)
        chat.planned = None

    def reply_at(self, chat_id: int, key: str, now: float) -> float | None:
        """A reply to the group (``key``: the answer itself, its text and buttons): when it may go,
        or None to drop it because the same reply is waiting already (the group sees each
        answer once, however often it is asked for). At ``now`` or before, it counts as sent
        now; later, it waits (``reply_now`` when its time comes). The same key goes at most
        once a spacing."""
        chat = self._chats.setdefault(chat_id, _Chat())
        if key in chat.waiting:
            return None
        chat.waiting.add(key)
        return self.reply_now(chat_id, key, now)

    def reply_now(self, chat_id: int, key: str, now: float) -> float:
        """A waiting reply's time: at ``now`` or before, it counts as sent now (a send or a
        planned edit stays planned: the reply does not end it); else it waits on."""
        chat = self._chats.setdefault(chat_id, _Chat())
        at = self.reply_slot(chat_id, now)
        if (last := chat.answered.get(key)) is not None:
            at = max(at, last + self.spacing)
        if at <= now:
            chat.sent.append(now)
            chat.answered[key] = now
            chat.waiting.discard(key)
        return at

    def reply_slot(self, chat_id: int, now: float) -> float:
        """The earliest time a reply may go: not before a 429's wait is over, at most
        ``replies`` messages in a window, and never ahead of a planned edit that is due
        within a spacing (the session message keeps its place)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return now
        self._expire(chat, now)
        slot = max(now, chat.held_until)
        if len(chat.sent) >= self.replies:
            slot = max(slot, chat.sent[-self.replies] + self.window)
        if chat.planned is not None and slot > chat.planned - self.spacing:
            slot = max(slot, chat.planned + self.spacing / 10)
        return slot

    def drop_reply(self, chat_id: int, key: str) -> None:
        """A waiting reply will not go (too late, or refused): the next of its key may wait."""
        chat = self._chats.get(chat_id)
        if chat is not None:
            chat.waiting.discard(key)

    def _expire(self, chat: _Chat, now: float) -> None:
        while chat.sent and chat.sent[0] <= now - self.window:
            chat.sent.popleft()

    def hold(self, chat_id: int, until: float) -> None:
        """Telegram answered 429 for the chat: no slot before ``until`` (its retry_after);
        an edit planned earlier waits for it (the caller asks ``next_slot`` when it runs)."""
        chat = self._chats.setdefault(chat_id, _Chat())
        chat.held_until = max(chat.held_until, until)

    def cancel(self, chat_id: int) -> None:
        """A planned edit that will not be sent (the session ended): the next request plans."""
        chat = self._chats.get(chat_id)
        if chat is not None:
            chat.planned = None

    def forget(self, chat_id: int) -> None:
        """The chat is gone (the bot removed, the group migrated)."""
        self._chats.pop(chat_id, None)
