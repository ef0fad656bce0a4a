"""Groups in the Bot API emulator, driven by python-telegram-bot's own Bot and by raw HTTP:
members and their status, the bot added and removed, privacy mode, pins, the per-group limit
and the upgrade to a supergroup."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter
from telegram.request import HTTPXRequest

from bot.config import parse_config
from bot.emulator import BOT_USER, GROUP_LIMIT, Emulator, SimGroup, SimUser, UserMessage
from bot.emulator import __main__ as emulator_main

TOKEN = "123456:TEST-TOKEN"
BOT = BOT_USER["username"]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def tg(emu: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, base_url=emu.base_url, request=HTTPXRequest(read_timeout=2.0))
    await bot.initialize()
    yield bot
    await bot.shutdown()


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    root = emu.base_url.removesuffix("/bot")
    async with httpx.AsyncClient(base_url=root, timeout=5) as client:
        yield client


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns when RetryAfter is built in its deprecated int mode; opt in to timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def people(emu: Emulator) -> tuple[SimUser, SimUser, SimUser, SimUser]:
    """An admin (who creates the group) and three supporters."""
    return (
        emu.user(1, "Ada", language_code="de"),
        emu.user(2, "Bo"),
        emu.user(3, "Cy"),
        emu.user(4, "Di"),
    )


def local_group(emu: Emulator, *, supergroup: bool = False) -> SimGroup:
    admin, *members = people(emu)
    return emu.group("Local group", members=members, admins=[admin], supergroup=supergroup)


class Updates:
    """Reads the bot's updates in order, as a long-polling bot does."""

    def __init__(self, tg: Bot) -> None:
        self.tg = tg
        self.offset = 0

    async def next(self, count: int = 1) -> list[Update]:
        got: list[Update] = []
        for _ in range(20):
            batch = await self.tg.get_updates(offset=self.offset, timeout=0.5)
            for update in batch:
                self.offset = update.update_id + 1
            got.extend(batch)
            if len(got) >= count:
                break
        assert len(got) == count, f"expected {count} updates, got {got}"
        return got

    async def none(self) -> None:
        assert await self.tg.get_updates(offset=self.offset, timeout=0.1) == ()


# -- chats and members --------------------------------------------------------------------


async def test_group_chats_members_and_their_status(emu: Emulator, tg: Bot) -> None:
    group = local_group(emu)
    superg = emu.group("Marathon", members=[emu.user(2)], supergroup=True)
    assert group.id < 0 and group.type == "group"
    assert str(superg.id).startswith("-100") and superg.type == "supergroup"
    assert [group.status(u) for u in (1, 2, 3, 4)] == ["creator", "member", "member", "member"]
    assert group.bot_status == "left"
    # The bot is no member yet: Telegram answers 403 to anything naming the chat.
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the group chat"):
        await tg.send_message(group.id, "hello")
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the supergroup chat"):
        await tg.get_chat_member(superg.id, 2)

    group.add_bot()
    group.promote(emu.user(2))
    owner = await tg.get_chat_member(group.id, 1)
    assert isinstance(owner, ChatMemberOwner) and owner.user.first_name == "Ada"
    admin = await tg.get_chat_member(group.id, 2)
    assert isinstance(admin, ChatMemberAdministrator)
    assert admin.can_pin_messages and not admin.can_promote_members
    assert isinstance(await tg.get_chat_member(group.id, 3), ChatMemberMember)
    bot = await tg.get_chat_member(group.id, BOT_USER["id"])
    assert isinstance(bot, ChatMemberMember) and bot.user.is_bot
    emu.user(9, "Outsider")  # known to Telegram, not in the group
    assert isinstance(await tg.get_chat_member(group.id, 9), ChatMemberLeft)
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await tg.get_chat_member(group.id, 123456)
    admins = await tg.get_chat_administrators(group.id)
    assert sorted((m.user.id, m.status) for m in admins) == [
        (1, "creator"),
        (2, "administrator"),
    ]
    assert await tg.get_chat_member_count(group.id) == 5  # four people and the bot
    chat = await tg.get_chat(group.id)
    assert (chat.id, chat.type, chat.title) == (group.id, "group", "Local group")

    group.leave(emu.user(4))
    assert group.status(4) == "left"
    with pytest.raises(AssertionError, match="not a member"):
        await group.send(emu.user(4), "still here?")
    with pytest.raises(ValueError, match="at least one member"):
        emu.group("Empty")


async def test_adding_and_removing_the_bot_sends_my_chat_member(emu: Emulator, tg: Bot) -> None:
    group = local_group(emu)
    updates = Updates(tg)
    group.add_bot(by=emu.user(3))
    added, joined = await updates.next(2)
    change = added.my_chat_member
    assert change is not None and change.from_user.id == 3
    assert (change.chat.id, change.chat.type, change.chat.title) == (
        group.id,
        "group",
        "Local group",
    )
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    assert change.new_chat_member.user.id == BOT_USER["id"]
    assert joined.message is not None and joined.message.new_chat_members is not None
    assert [u.id for u in joined.message.new_chat_members] == [BOT_USER["id"]]
    with pytest.raises(AssertionError, match="already in"):
        group.add_bot()

    sent = await tg.send_message(group.id, "Hello, group")
    assert sent.chat.type == "group" and sent.chat.title == "Local group"
    assert [m.text for m in group.messages] == ["Hello, group"]
    assert (await group.receive()).text == "Hello, group"

    group.join(emu.user(9, "Eve"))  # service messages reach the bot even in privacy mode
    (joined_eve,) = await updates.next()
    assert joined_eve.message is not None and joined_eve.message.new_chat_members is not None
    assert joined_eve.message.new_chat_members[0].first_name == "Eve"

    group.promote_bot(rights=("can_pin_messages",))
    (promoted,) = await updates.next()
    assert promoted.my_chat_member is not None
    assert promoted.my_chat_member.new_chat_member.status == "administrator"
    assert group.bot_status == "administrator"

    group.remove_bot()
    (removed,) = await updates.next()
    assert removed.my_chat_member is not None and removed.my_chat_member.from_user.id == 1
    assert removed.my_chat_member.old_chat_member.status == "administrator"
    assert removed.my_chat_member.new_chat_member.status == "left"
    await updates.none()  # nothing of the group reaches a bot that is out
    await group.send(emu.user(2), "/help")
    await updates.none()
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the group chat"):
        await tg.send_message(group.id, "still there?")

    superg = emu.group("Marathon", members=[emu.user(2)], supergroup=True)
    superg.add_bot()
    await updates.next(2)
    superg.remove_bot()
    (banned,) = await updates.next()
    assert banned.my_chat_member is not None
    assert banned.my_chat_member.new_chat_member.status == "kicked"  # removing there bans
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await tg.send_message(superg.id, "x")

    other = emu.group("Leavers", members=[emu.user(2), emu.user(3)])
    with pytest.raises(AssertionError, match="may not add admins"):
        other.add_bot(by=emu.user(3), admin=True)  # a plain member adds bots, not admins
    other.add_bot()
    await updates.next(2)
    assert await tg.leave_chat(other.id)
    (left,) = await updates.next()
    assert left.my_chat_member is not None and left.my_chat_member.from_user.is_bot
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member"):
        await tg.send_message(other.id, "x")


# -- messages from several users and privacy mode -----------------------------------------


async def test_privacy_mode_lets_through_commands_replies_and_mentions(
    emu: Emulator, tg: Bot
) -> None:
    group = local_group(emu)
    group.add_bot()
    updates = Updates(tg)
    await updates.next(2)
    assert (await tg.get_me()).can_read_all_group_messages is False
    ada, bo, cy = emu.user(1), emu.user(2), emu.user(3)

    await group.send(bo, "hello everyone")  # plain talk: hidden from the bot
    await group.send(cy, "/help@other_bot")  # a command for another bot
    await updates.none()
    assert [getattr(m, "delivered", None) for m in group.transcript[-2:]] == [False, False]
    assert "not delivered: privacy mode" in group.dump()

    await group.send(ada, f"/help@{BOT}")
    await group.send(bo, "/session UA 046/19 60")
    help_update, session_update = await updates.next(2)
    message = help_update.message
    assert message is not None and message.from_user is not None
    assert (message.chat.type, message.chat.id, message.from_user.id) == ("group", group.id, 1)
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bot_command", 0, len(f"/help@{BOT}"))
    ]
    assert session_update.message is not None
    assert session_update.message.from_user is not None
    assert session_update.message.from_user.id == 2

    posted = await tg.send_message(group.id, "A session starts")
    bot_message = group.transcript[-1]
    user_message = group.transcript[-2]
    assert isinstance(user_message, UserMessage)
    await group.send(cy, "done!", reply_to=bot_message)  # a reply to the bot
    await group.send(bo, "ok", reply_to=user_message)  # a reply to someone else: hidden
    await group.send(bo, f"thanks @{BOT}!")  # a mention
    reply, mention = await updates.next(2)
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.message_id == posted.message_id
    assert mention.message is not None and mention.message.text == f"thanks @{BOT}!"
    assert [(e.type, e.offset) for e in mention.message.entities] == [("mention", 7)]
    await updates.none()

    group.promote_bot()  # an admin bot gets every message
    await updates.next()
    await group.send(bo, "chatting along")
    (seen,) = await updates.next()
    assert seen.message is not None and seen.message.text == "chatting along"
    group.demote_bot()
    await updates.next()
    emu.privacy_mode = False  # @BotFather /setprivacy Disable
    assert (await tg.get_me()).can_read_all_group_messages is True
    await group.send(cy, "no secrets")
    (open_talk,) = await updates.next()
    assert open_talk.message is not None and open_talk.message.text == "no secrets"


# -- pins -----------------------------------------------------------------------------------


async def test_pinning_needs_an_admin_bot_with_can_pin_messages(emu: Emulator, tg: Bot) -> None:
    group = local_group(emu)
    group.add_bot()
    session = await tg.send_message(group.id, "Session: 45 minutes left")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to pin a message"):
        await tg.pin_chat_message(group.id, session.message_id)
    assert group.pinned is None

    group.promote_bot(rights=("can_delete_messages",))  # an admin, but without the right
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to pin a message"):
        await tg.pin_chat_message(group.id, session.message_id)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to manage pinned messages"):
        await tg.unpin_chat_message(group.id, session.message_id)

    group.promote_bot(rights=("can_pin_messages",))
    with pytest.raises(BadRequest, match=r"(?i)message to pin not found"):
        await tg.pin_chat_message(group.id, 999)
    assert await tg.pin_chat_message(group.id, session.message_id, disable_notification=True)
    pinned = group.pinned
    assert pinned is not None and pinned.message_id == session.message_id
    chat = await tg.get_chat(group.id)
    assert chat.pinned_message is not None
    assert chat.pinned_message.message_id == session.message_id
    other = await tg.send_message(group.id, "Another")
    await tg.pin_chat_message(group.id, other.message_id)
    assert [m.message_id for m in group.pinned_all] == [session.message_id, other.message_id]
    assert await tg.unpin_chat_message(group.id, session.message_id)
    assert [m.message_id for m in group.pinned_all] == [other.message_id]
    with pytest.raises(BadRequest, match=r"(?i)message to unpin not found"):
        await tg.unpin_chat_message(group.id, session.message_id)
    assert await tg.unpin_chat_message(group.id)  # the most recent one
    assert group.pinned is None

    admin_from_start = emu.group("Admins", members=[emu.user(2)])
    admin_from_start.add_bot(admin=True)  # default rights include pinning
    message = await tg.send_message(admin_from_start.id, "x")
    assert await tg.pin_chat_message(admin_from_start.id, message.message_id)


# -- Telegram's per-group limit ---------------------------------------------------------------


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_per_group_limit_answers_429_beyond_it(
    emu: Emulator, tg: Bot, http: httpx.AsyncClient
) -> None:
    assert GROUP_LIMIT == (20, 60.0) and emu.config()["group_limit"] == [20, 60.0]
    emu.rate_limit = None  # the bot's overall 30/s is not what this test is about
    group = local_group(emu)
    group.add_bot()
    other = emu.group("Other group", members=[emu.user(2)])
    other.add_bot()
    # Telegram's 20 per group, over a long window so that no token comes back while the
    # test runs, however slow the machine.
    emu.set_group_limit(20, 3600.0)
    session = await tg.send_message(group.id, "Session: 0 letters")
    for n in range(1, 15):
        await tg.edit_message_text(f"Session: {n} letters", group.id, session.message_id)
    for n in range(5):
        await tg.send_message(group.id, f"thanks {n}")
    # 1 message + 14 edits + 5 messages = 20: the next send or edit in this group is refused.
    with pytest.raises(RetryAfter) as caught:
        await tg.edit_message_text("Session: 15 letters", group.id, session.message_id)
    retry = caught.value.retry_after
    assert isinstance(retry, dtm.timedelta) and retry.total_seconds() == 180  # one per 3 min
    raw = await http.post(
        f"/bot{TOKEN}/sendMessage", data={"chat_id": str(group.id), "text": "one more"}
    )
    assert raw.status_code == 429
    assert raw.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 180",
        "parameters": {"retry_after": 180},
    }
    assert group.messages[0].edits == 14 and len(group.messages) == 6
    assert emu.stats.too_many_requests == 2
    # Other groups and private chats have their own budgets.
    await tg.send_message(other.id, "fine")
    emu.user(2, started=True)  # Bo opened the bot's private chat
    for n in range(25):
        await tg.send_message(2, f"private {n}")

    # Time-compressed: 2 per 0.5 s; a token returns every 0.25 s.
    emu.set_group_limit(2, 0.5)
    await tg.send_message(group.id, "a")
    await tg.send_message(group.id, "b")
    with pytest.raises(RetryAfter):
        await tg.send_message(group.id, "c")
    await asyncio.sleep(0.3)
    await tg.send_message(group.id, "c")
    emu.set_group_limit(None)
    for n in range(30):
        await tg.send_message(group.id, f"unlimited {n}")


# -- the upgrade to a supergroup --------------------------------------------------------------


async def test_migration_to_a_supergroup(emu: Emulator, tg: Bot) -> None:
    group = local_group(emu)
    old_id = group.id
    group.add_bot()
    updates = Updates(tg)
    await updates.next(2)
    await tg.send_message(old_id, "Before the upgrade")
    new_id = group.migrate()
    assert str(new_id).startswith("-100") and group.id == new_id and group.type == "supergroup"
    to, came_from = await updates.next(2)
    assert to.message is not None and to.message.chat.id == old_id
    assert to.message.migrate_to_chat_id == new_id
    assert came_from.message is not None and came_from.message.chat.id == new_id
    assert came_from.message.chat.type == "supergroup"
    assert came_from.message.migrate_from_chat_id == old_id

    with pytest.raises(ChatMigrated) as caught:
        await tg.send_message(old_id, "to the old id")
    assert caught.value.new_chat_id == new_id
    with pytest.raises(ChatMigrated):
        await tg.get_chat_member(old_id, 1)
    sent = await tg.send_message(new_id, "After the upgrade")
    assert sent.chat.type == "supergroup" and sent.message_id == 2  # ids start again
    assert [m.text for m in group.messages] == ["After the upgrade"]
    assert [m.text for m in group.old_chats[0].bot_messages] == ["Before the upgrade"]
    assert isinstance(await tg.get_chat_member(new_id, 1), ChatMemberOwner)
    assert group.bot_status == "member" and emu.find_group(old_id) is group
    with pytest.raises(AssertionError, match="already a supergroup"):
        group.migrate()
    await group.send(emu.user(2), f"/help@{BOT}")
    (help_update,) = await updates.next()
    assert help_update.message is not None and help_update.message.chat.id == new_id


async def test_raw_http_answer_for_an_upgraded_group(
    emu: Emulator, http: httpx.AsyncClient
) -> None:
    group = local_group(emu)
    old_id = group.id
    group.add_bot()
    new_id = group.migrate()
    answer = await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": old_id, "text": "x"})
    assert answer.status_code == 400
    assert answer.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": new_id},
    }


# -- the control API (the sandbox's group chat) ----------------------------------------------


async def test_control_api_drives_a_group(emu: Emulator, tg: Bot, http: httpx.AsyncClient) -> None:
    people(emu)

    async def post(path: str, body: dict[str, Any]) -> Any:
        answer = (await http.post(path, json=body)).json()
        assert answer["ok"], answer
        return answer["result"]

    made = await post(
        "/_emu/groups", {"title": "Sandbox group", "members": [2, 3, 4], "admins": [1]}
    )
    chat_id = made["chat_id"]
    assert made["bot_status"] == "left" and made["type"] == "group"
    assert {m["user_id"]: m["status"] for m in made["members"]} == {
        1: "creator",
        2: "member",
        3: "member",
        4: "member",
    }
    added = await post(f"/_emu/groups/{chat_id}/bot", {"action": "add", "by": 1, "admin": True})
    assert added["bot_status"] == "administrator"
    updates = Updates(tg)
    await updates.next(2)
    said = await post(f"/_emu/groups/{chat_id}/send", {"user_id": 3, "text": f"/help@{BOT}"})
    assert said["delivered"] is True and said["chat"]["type"] == "group"
    (help_update,) = await updates.next()
    assert help_update.message is not None and help_update.message.text == f"/help@{BOT}"
    reply = await tg.send_message(chat_id, "Help text")
    listing = (await http.get(f"/_emu/chats/{chat_id}/messages")).json()["result"]
    assert [m["text"] for m in listing] == ["Help text"]
    full = (
        await http.get(f"/_emu/chats/{chat_id}/messages", params={"include_user": "1"})
    ).json()["result"]
    assert [m.get("from_id") for m in full if m["sender"] == "user" and m["text"]] == [3]
    await tg.pin_chat_message(chat_id, reply.message_id)
    info = (await http.get(f"/_emu/groups/{chat_id}")).json()["result"]
    assert info["pinned"] == reply.message_id

    config = await post("/_emu/config", {"privacy_mode": False, "group_limit": [5, 10]})
    assert config["privacy_mode"] is False and config["group_limit"] == [5, 10]
    migrated = await post(f"/_emu/groups/{chat_id}/migrate", {})
    assert migrated["type"] == "supergroup" and migrated["old_chat_ids"] == [chat_id]
    refused = (await http.post(f"/_emu/groups/{chat_id}/bot", json={"action": "dance"})).json()
    assert refused["ok"] is False
    removed = await post(f"/_emu/groups/{migrated['chat_id']}/bot", {"action": "remove"})
    assert removed["bot_status"] == "kicked"
    unknown = (await http.get("/_emu/groups/-5")).json()
    assert unknown["ok"] is False and "unknown group" in unknown["description"]


async def test_control_api_taps_a_button_in_a_group_and_lists_its_messages(
    emu: Emulator, tg: Bot, http: httpx.AsyncClient
) -> None:
    """What a script driving a standalone emulator needs for a session: the group's messages
    and a member's tap under the bot's message there (the answer only they see)."""
    people(emu)
    group = local_group(emu)
    group.add_bot(admin=True)
    updates = Updates(tg)
    await updates.next(2)  # my_chat_member and the service message
    sent = await tg.send_message(
        group.id,
        "Session",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("✅ I sent it", callback_data="s:1")]]
        ),
    )
    listing = (await http.get(f"/_emu/groups/{group.id}/messages")).json()["result"]
    assert [(m["message_id"], m["text"]) for m in listing] == [(sent.message_id, "Session")]

    tap = asyncio.create_task(
        http.post(
            f"/_emu/groups/{group.id}/tap",
            json={"user_id": 3, "message_id": sent.message_id, "button": "✅ I sent it"},
        )
    )
    (update,) = await updates.next()
    query = update.callback_query
    assert query is not None and query.data == "s:1" and query.from_user.id == 3
    await tg.answer_callback_query(query.id, "Counted")
    answer = (await tap).json()
    assert answer["ok"] and answer["result"]["text"] == "Counted", answer
    missing = (
        await http.post(
            f"/_emu/groups/{group.id}/tap", json={"user_id": 3, "message_id": 999, "button": "x"}
        )
    ).json()
    assert missing["ok"] is False


def test_the_standalone_emulators_default_token_is_one_uabot_run_accepts() -> None:
    """`python -m bot.emulator` then `uabot run` with its token: the config takes it."""
    token = emulator_main.build_parser().parse_args([]).token
    config = parse_config({"telegram": {"token": token}}, environ={})
    assert config.telegram.token == token
