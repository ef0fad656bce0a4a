// The sandbox web chat. Bot messages are rendered from their text and Telegram entities with
// DOM nodes only (never innerHTML), so nothing the bot sends can inject markup or script.
"use strict";

// chat: "bot" (the private chat with the bot) or "friend" (where inline results are posted).
// group: the group chat shown instead (its id), where ``as`` (a member) writes and taps.
const state = {
  users: [], current: null, chat: "bot", version: null, rendered: new Map(), busy: false,
  groups: [], group: null, as: null,
  bot: { username: "", inline: false }, inline: { seq: 0, timer: null },
};
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

function post(path, body) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function toast(text, alert = false) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "alert" : "";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 3000);
}

// --- entities -> DOM ----------------------------------------------------------------------

const SAFE_SCHEMES = /^(https?:|mailto:|tg:)/i;

// A t.me link to this bot, with its start payload (null for another address).
function deepLink(href) {
  const name = state.bot.username.replace(/[^A-Za-z0-9_]/g, "");
  if (!name) return null;
  const pattern = new RegExp(`^https?://t\\.me/${name}/?(?:\\?start=([A-Za-z0-9_-]{1,64}))?$`, "i");
  const match = pattern.exec(href);
  return match ? { payload: match[1] || "" } : null;
}

const SHARE_DIALOG = /^https:\/\/t\.me\/share\/url\?/i;

// Telegram's share dialog asks which chat to send a link to. The sandbox has one other chat,
// and that takes cards through inline mode: open it with "@bot " typed, its results listed.
function shareDialog() {
  switchChat("friend");
  $("text").value = `@${state.bot.username} `;
  onInput();
  $("text").focus();
  toast("Telegram would ask which chat to share the link with. Here: the chat with a friend, "
    + "through inline mode; choose a case below.");
}

// A link to this bot opens its chat and sends /start <payload>, as a Telegram app does; the
// share dialog opens the chat with a friend; other links open in a new tab.
function link(href, children) {
  const a = document.createElement("a");
  if (SAFE_SCHEMES.test(href)) {
    a.href = href;
    const deep = deepLink(href);
    if (SHARE_DIALOG.test(href) && state.bot.inline) {
      a.dataset.share = "";
      a.addEventListener("click", (event) => {
        event.preventDefault();
        shareDialog();
      });
    } else if (deep) {
      a.dataset.deepLink = deep.payload;
      a.addEventListener("click", (event) => {
        event.preventDefault();
        // In a group, the link opens the private chat of the member who tapped it.
        if (state.group !== null) selectUser(state.as); else switchChat("bot");
        send(deep.payload ? `/start ${deep.payload}` : "/start");
      });
    } else {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
  }
  a.append(...children);
  return a;
}

// Plain text, with /commands clickable as in Telegram.
function textNodes(text) {
  const nodes = [];
  const pattern = /(^|[\s(])(\/[A-Za-z0-9_]{1,32})(?![\w/])/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index + match[1].length;
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
    const command = document.createElement("span");
    command.className = "command";
    command.textContent = match[2];
    command.dataset.command = match[2];
    nodes.push(command);
    last = start + match[2].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function element(entity, text, children) {
  const simple = { bold: "b", italic: "i", underline: "u", strikethrough: "s" };
  if (simple[entity.type]) {
    const el = document.createElement(simple[entity.type]);
    el.append(...children);
    return el;
  }
  switch (entity.type) {
    case "spoiler": {
      const el = document.createElement("span");
      el.className = "spoiler";
      el.addEventListener("click", () => el.classList.add("revealed"));
      el.append(...children);
      return el;
    }
    case "code": {
      const el = document.createElement("code");
      el.textContent = text;
      return el;
    }
    case "pre": {
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = text;
      pre.append(code);
      return pre;
    }
    case "text_link": return link(entity.url || "", children);
    case "url": return link(/^[a-z]+:/i.test(text) ? text : `https://${text}`, children);
    case "email": return link(`mailto:${text}`, children);
    case "blockquote":
    case "expandable_blockquote": {
      const el = document.createElement("blockquote");
      el.append(...children);
      return el;
    }
    default: {
      const el = document.createElement("span");
      el.className = entity.type;
      el.append(...children);
      return el;
    }
  }
}

// Offsets are UTF-16 code units, as JavaScript strings index them. Entities nest (they come
// from well-formed HTML); one that would overlap its parent is clipped to it.
function renderRange(text, start, end, entities) {
  const out = [];
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, pos);
    const to = Math.min(entity.offset + entity.length, end);
    const inner = [];
    i += 1;
    while (i < entities.length && entities[i].offset < to) inner.push(entities[i++]);
    if (from >= to) continue;
    if (from > pos) out.push(...textNodes(text.slice(pos, from)));
    const children = renderRange(text, from, to, inner);
    out.push(element(entity, text.slice(from, to), children));
    pos = to;
  }
  if (pos < end) out.push(...textNodes(text.slice(pos, end)));
  return out;
}

function formatted(text, entities) {
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  return renderRange(text, 0, text.length, sorted);
}

// --- messages -----------------------------------------------------------------------------

function sizeLabel(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

function renderMessage(message) {
  const row = document.createElement("div");
  row.className = `msg ${message.sender}${message.deleted ? " deleted" : ""}`;
  row.dataset.id = message.id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  row.append(bubble);

  if (message.sender === "user" && !message.via_bot) {
    if (state.group !== null && message.from) {  // a group: who wrote it
      const from = document.createElement("div");
      from.className = "from";
      from.textContent = message.from;
      bubble.append(from);
      if (message.from_id !== state.as) row.classList.add("other");
    }
    if (message.file_name) {
      const file = document.createElement("div");
      file.className = "file";
      file.textContent = `📄 ${message.file_name}`;
      bubble.append(file);
    }
    if (message.text) {
      const body = document.createElement("div");
      body.className = "text";
      body.textContent = message.text;
      bubble.append(body);
    }
    return row;
  }

  if (message.via_bot) {
    const via = document.createElement("div");
    via.className = "via";
    via.textContent = `via @${message.via_bot}`;
    bubble.append(via);
  }
  if (message.document) {
    const doc = document.createElement("a");
    doc.className = "document";
    doc.href = message.document.url;
    doc.download = message.document.name;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = message.document.name;
    const size = document.createElement("span");
    size.className = "size";
    size.textContent = sizeLabel(message.document.size);
    doc.append("📄 ", name, size);
    bubble.append(doc);
  }
  if (message.text) {
    const body = document.createElement("div");
    body.className = "text";
    body.append(...formatted(message.text, message.entities));
    bubble.append(body);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = message.deleted ? "deleted" : message.edited ? "edited" : "";
  bubble.append(meta);

  if (message.buttons.length && !message.deleted) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    message.buttons.forEach((buttons, r) => {
      const line = document.createElement("div");
      line.className = "kb-row";
      buttons.forEach((button, c) => {
        let el;
        if (button.url) {
          el = link(button.url, [button.text]);
          if (el.target === "_blank") el.append(" ↗");
        } else {
          el = document.createElement("button");
          el.type = "button";
          el.textContent = button.text;
          el.addEventListener("click", () => tap(message.id, r, c, el));
        }
        el.classList.add("kb");
        el.dataset.text = button.text;
        line.append(el);
      });
      keyboard.append(line);
    });
    row.append(keyboard);
  }
  return row;
}

function render(messages) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const seen = new Set();
  let previous = null;
  for (const message of messages) {
    seen.add(message.id);
    const key = JSON.stringify(message);
    const known = state.rendered.get(message.id);
    let node = known && known.key === key ? known.node : null;
    if (!node) {
      node = renderMessage(message);
      if (known) known.node.replaceWith(node);
      state.rendered.set(message.id, { key, node });
    }
    if (node.previousElementSibling !== previous || node.parentNode !== box) {
      if (previous) previous.after(node); else box.prepend(node);
    }
    previous = node;
  }
  for (const [id, { node }] of state.rendered) {
    if (!seen.has(id)) { node.remove(); state.rendered.delete(id); }
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// Where the shown chat's messages come from: the group's, or the user's chat with the bot or
// with a friend.
function chatPath() {
  if (state.group !== null) return `/api/groups/${state.group}/messages`;
  const path = state.chat === "bot" ? "messages" : "other/messages";
  return `/api/chats/${state.current}/${path}`;
}

async function poll() {
  if ((state.current !== null || state.group !== null) && !state.busy) {
    const shown = chatPath();
    state.busy = true;
    try {
      const known = state.version ? `?known=${state.version}` : "";
      const data = await api(`${shown}${known}`);
      if (shown === chatPath() && !data.unchanged) {
        state.version = data.version;
        render(data.messages);
      }
    } catch (error) {
      console.warn("poll failed", error);
    } finally {
      state.busy = false;
    }
  }
  setTimeout(poll, 300);
}

// --- acting -------------------------------------------------------------------------------

async function tap(messageId, row, col, el) {
  if (state.group === null && state.chat !== "bot") {
    toast("The emulator answers buttons in the chat with the bot only.", true);
    return;
  }
  el.classList.add("pressed");
  try {
    const answer = state.group !== null
      ? await post(`/api/groups/${state.group}/tap`, { as: state.as, message_id: messageId, row, col })
      : await post(`/api/chats/${state.current}/tap`, { message_id: messageId, row, col });
    if (answer.answered && answer.text) toast(answer.text, answer.show_alert);
    if (!answer.answered) toast("The bot did not answer this button.", true);
  } catch (error) {
    toast(`Tap failed: ${error.message}`, true);
  } finally {
    el.classList.remove("pressed");
  }
}

async function send(text) {
  if (!text.trim()) return;
  if (state.group !== null) {
    try {
      await post(`/api/groups/${state.group}/send`, { as: state.as, text });
    } catch (error) {
      toast(`Sending failed: ${error.message}`, true);
    }
    return;
  }
  if (state.chat !== "bot") {
    toast(`The friend is not simulated: here only @${state.bot.username} … (inline mode) works.`,
      true);
    return;
  }
  try {
    await post(`/api/chats/${state.current}/send`, { text });
  } catch (error) {
    toast(`Sending failed: ${error.message}`, true);
  }
}

async function upload(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    await api(`/api/chats/${state.current}/upload`, { method: "POST", body: form });
  } catch (error) {
    toast(`Upload failed: ${error.message}`, true);
  }
}

// Menus asked for in quick succession (a language switch, a chat switch) may answer out of
// order: only the latest request's answer is shown, and it replaces the menu in one step.
let menuRequest = 0;

async function loadMenu() {
  const menu = $("menu");
  const request = ++menuRequest;
  let commands;
  if (state.group !== null) {
    const member = state.users.find((u) => u.id === state.as);
    const language = encodeURIComponent(member ? member.language_code : "");
    commands = await api(`/api/groups/${state.group}/commands?language=${language}`);
  } else {
    commands = await api(`/api/chats/${state.current}/commands`);
  }
  if (request !== menuRequest) return; // a later request owns the menu
  const items = commands.map(({ command, description }) => {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "menu-item";
    item.dataset.command = `/${command}`;
    const name = document.createElement("b");
    name.textContent = `/${command}`;
    item.append(name, ` ${description}`);
    return item;
  });
  menu.replaceChildren(...items);
  $("menu-button").disabled = commands.length === 0;
}

// --- inline mode ----------------------------------------------------------------------------

// What follows "@botname" at the start of the input, as Telegram sends it; null otherwise.
function inlineQuery(text) {
  const name = state.bot.username;
  if (!state.bot.inline || !name) return null;
  const prefix = `@${name}`;
  if (text.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return null;
  const rest = text.slice(prefix.length);
  if (rest && !/^\s/.test(rest)) return null;  // "@botnamex" is another name
  return rest.trim();
}

function hideInline() {
  state.inline.seq += 1;  // answers still on their way are dropped
  clearTimeout(state.inline.timer);
  $("inline-results").hidden = true;
  $("inline-results").replaceChildren();
}

function onInput() {
  const query = inlineQuery($("text").value);
  if (query === null) { hideInline(); return; }
  clearTimeout(state.inline.timer);
  // Telegram's apps wait for a pause in typing too, rather than query every key.
  state.inline.timer = setTimeout(() => askInline(query, ""), 250);
}

async function askInline(query, offset) {
  const seq = ++state.inline.seq;
  const user = state.current;
  let answer;
  try {
    answer = await post(`/api/chats/${user}/inline`, { query, offset });
  } catch (error) {
    toast(`Inline query failed: ${error.message}`, true);
    return;
  }
  if (seq !== state.inline.seq || user !== state.current) return;  // typed on meanwhile
  showInline(answer, query, offset !== "");
}

function showInline(answer, query, more) {
  const box = $("inline-results");
  if (!more) box.replaceChildren();
  box.querySelector(".inline-more")?.remove();
  box.hidden = false;
  if (!answer.answered) {
    const none = document.createElement("div");
    none.className = "inline-empty";
    none.textContent = "The bot did not answer this inline query.";
    box.append(none);
    return;
  }
  answer.results.forEach((result, index) => {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "inline-result";
    item.setAttribute("role", "option");
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = result.title;
    const description = document.createElement("span");
    description.className = "description";
    description.textContent = result.description;
    item.append(title, description);
    item.addEventListener("click", () => choose(answer.query_id, index));
    box.append(item);
  });
  if (!box.querySelector(".inline-result")) {
    const none = document.createElement("div");
    none.className = "inline-empty";
    none.textContent = "No results.";
    box.append(none);
  }
  if (answer.next_offset) {
    const next = document.createElement("button");
    next.type = "button";
    next.className = "inline-more";
    next.textContent = "More results…";
    next.addEventListener("click", () => askInline(query, answer.next_offset));
    box.append(next);
  }
}

// Post the result into the chat with a friend (the chat one types "@bot …" in), and show it.
async function choose(queryId, index) {
  try {
    await post(`/api/chats/${state.current}/inline/choose`, { query_id: queryId, index });
  } catch (error) {
    toast(`Posting failed: ${error.message}`, true);
    return;
  }
  $("text").value = "";
  hideInline();
  switchChat("friend");
}

function switchChat(chat) {
  if (chat !== state.chat) {
    state.chat = chat;
    state.version = null;
    state.rendered.clear();
    $("messages").replaceChildren();
  }
  for (const tab of document.querySelectorAll(".tab")) {
    tab.classList.toggle("active", tab.dataset.chat === chat);
  }
  const user = state.users.find((u) => u.id === state.current);
  $("chat-title").textContent = chat === "bot" ? user.name : `${user.name.split(" ")[0]} → Friend`;
  $("text").placeholder = chat === "bot" ? "Message" : `@${state.bot.username} …`;
  $("menu-button").hidden = chat !== "bot";
  $("attach").hidden = chat !== "bot";
  $("menu").hidden = true;
}

// Which column a phone-width screen shows; a wide one shows both whatever this says.
function showView(view) {
  document.body.dataset.view = view;
}

function markActive() {
  for (const el of document.querySelectorAll(".person")) {
    const group = el.dataset.group !== undefined;
    el.classList.toggle("active", group
      ? Number(el.dataset.group) === state.group
      : state.group === null && Number(el.dataset.user) === state.current);
  }
}

// The group chat: everyone's messages; the composer writes (and buttons tap) as ``as``.
function selectGroup(id) {
  const group = state.groups.find((g) => g.id === id);
  showView("chat");
  hideInline();
  state.group = id;
  state.version = null;
  state.rendered.clear();
  $("messages").replaceChildren();
  const select = $("as");
  select.replaceChildren();
  for (const member of group.members) {
    const user = state.users.find((u) => u.id === member.id);
    const option = document.createElement("option");
    option.value = member.id;
    option.textContent = `${user.name.split(" ")[0]}${member.status === "member" ? "" : " (admin)"}`;
    select.append(option);
  }
  const admin = group.members.find((m) => m.status !== "member") || group.members[0];
  select.value = String(admin.id);
  state.as = admin.id;
  select.hidden = false;
  $("chat-tabs").hidden = true;
  $("attach").hidden = true;
  $("menu-button").hidden = false;
  $("menu").hidden = true;
  $("promote").hidden = group.bot_status === "administrator";
  $("chat-title").textContent = `👥 ${group.title}`;
  $("chat-sub").textContent = `group · ${group.members.length} members · id ${group.id}`;
  $("text").placeholder = "Message (as the member chosen on the left)";
  markActive();
  history.replaceState(null, "", `#group${id}`);
  loadMenu().catch((error) => console.warn("menu", error));
  $("text").focus();
}

function selectUser(id) {
  showView("chat");
  hideInline();
  if (state.group !== null) {
    state.group = null;
    state.version = null;
    state.rendered.clear();
    $("messages").replaceChildren();
  }
  $("as").hidden = true;
  $("promote").hidden = true;
  $("chat-tabs").hidden = false;
  state.current = id;
  state.chat = null;
  switchChat("bot");
  const user = state.users.find((u) => u.id === id);
  $("chat-sub").textContent = `id ${user.id} · ${user.language_code}${user.admin ? " · admin" : ""}`;
  markActive();
  history.replaceState(null, "", `#${id}`);
  loadMenu().catch((error) => console.warn("menu", error));
  $("text").focus();
}

async function main() {
  state.users = await api("/api/users");
  state.bot = await api("/api/bot");
  $("tab-bot").textContent = `@${state.bot.username}`;
  if (state.bot.inline) {
    $("inline-example").textContent = `@${state.bot.username}`;
    $("inline-note").hidden = false;
  }
  const nav = $("users");
  for (const user of state.users) {
    const el = document.createElement("button");
    el.type = "button";
    el.className = "person";
    el.dataset.user = user.id;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = user.name;
    const sub = document.createElement("small");
    sub.textContent = user.admin ? `admin · ${user.id}` : user.language_code;
    el.append(name, sub);
    el.addEventListener("click", () => selectUser(user.id));
    nav.append(el);
  }
  state.groups = await api("/api/groups");
  const groupNav = $("groups");
  for (const group of state.groups) {
    const el = document.createElement("button");
    el.type = "button";
    el.className = "person group";
    el.dataset.group = group.id;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = `👥 ${group.title}`;
    const sub = document.createElement("small");
    sub.textContent = `group · ${group.members.length} members`;
    el.append(name, sub);
    el.addEventListener("click", () => selectGroup(group.id));
    groupNav.append(el);
  }
  $("promote").addEventListener("click", async () => {
    // The group's creator makes the bot an admin that may pin (the session message pinned).
    const promoted = await post(`/api/groups/${state.group}/promote`, {});
    const group = state.groups.find((g) => g.id === state.group);
    group.bot_status = promoted.bot_status;
    $("promote").hidden = promoted.bot_status === "administrator";
  });
  $("as").addEventListener("change", () => {
    state.as = Number($("as").value);
    state.version = null;  // whose messages are "mine" changed: render again
    state.rendered.clear();
    $("messages").replaceChildren();
    loadMenu().catch((error) => console.warn("menu", error));
  });
  const fromHash = Number(location.hash.slice(1));
  const groupHash = Number(location.hash.replace(/^#group/, ""));
  if (location.hash.startsWith("#group") && state.groups.some((g) => g.id === groupHash)) {
    selectGroup(groupHash);
  } else if (state.users.some((u) => u.id === fromHash)) {
    selectUser(fromHash);
  } else {
    selectUser(state.users[0].id);
    showView("list");  // a phone opens on the chat list; a wide screen on the first chat
  }
  $("back").addEventListener("click", () => showView("list"));
  $("text").addEventListener("input", onInput);
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => switchChat(tab.dataset.chat));
  }

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (state.chat !== "bot" && inlineQuery(text) !== null) return;  // choose a result instead
    $("text").value = "";
    hideInline();
    send(text);
  });
  $("menu-button").addEventListener("click", () => { $("menu").hidden = !$("menu").hidden; });
  $("menu").addEventListener("click", (event) => {
    const item = event.target.closest(".menu-item");
    if (!item) return;
    $("menu").hidden = true;
    send(item.dataset.command);
  });
  $("messages").addEventListener("click", (event) => {
    const command = event.target.closest(".command");
    if (command) send(command.dataset.command);
  });
  $("attach").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", () => {
    const [file] = $("file").files;
    if (file) upload(file);
    $("file").value = "";
  });
  poll();
}

main().catch((error) => toast(`The sandbox did not start: ${error.message}`, true));
