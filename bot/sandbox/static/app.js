// The sandbox web chat. Bot messages are rendered from their text and Telegram entities with
// DOM nodes only (never innerHTML), so nothing the bot sends can inject markup or script.
"use strict";

const state = { users: [], current: null, version: null, rendered: new Map(), busy: false };
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

function link(href, children) {
  const a = document.createElement("a");
  if (SAFE_SCHEMES.test(href)) {
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
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

  if (message.sender === "user") {
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
          el = link(button.url, [button.text + " ↗"]);
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

async function poll() {
  if (state.current !== null && !state.busy) {
    const user = state.current;
    state.busy = true;
    try {
      const known = state.version ? `?known=${state.version}` : "";
      const data = await api(`/api/chats/${user}/messages${known}`);
      if (user === state.current && !data.unchanged) {
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
  el.classList.add("pressed");
  try {
    const answer = await post(`/api/chats/${state.current}/tap`,
      { message_id: messageId, row, col });
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

async function loadMenu() {
  const menu = $("menu");
  menu.replaceChildren();
  const commands = await api(`/api/chats/${state.current}/commands`);
  for (const { command, description } of commands) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "menu-item";
    item.dataset.command = `/${command}`;
    const name = document.createElement("b");
    name.textContent = `/${command}`;
    item.append(name, ` ${description}`);
    menu.append(item);
  }
  $("menu-button").disabled = commands.length === 0;
}

// Which column a phone-width screen shows; a wide one shows both whatever this says.
function showView(view) {
  document.body.dataset.view = view;
}

function selectUser(id) {
  showView("chat");
  state.current = id;
  state.version = null;
  state.rendered.clear();
  $("messages").replaceChildren();
  $("menu").hidden = true;
  const user = state.users.find((u) => u.id === id);
  $("chat-title").textContent = user.name;
  $("chat-sub").textContent = `id ${user.id} · ${user.language_code}${user.admin ? " · admin" : ""}`;
  for (const el of document.querySelectorAll(".person")) {
    el.classList.toggle("active", Number(el.dataset.user) === id);
  }
  history.replaceState(null, "", `#${id}`);
  loadMenu().catch((error) => console.warn("menu", error));
  $("text").focus();
}

async function main() {
  state.users = await api("/api/users");
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
  const fromHash = Number(location.hash.slice(1));
  if (state.users.some((u) => u.id === fromHash)) {
    selectUser(fromHash);
  } else {
    selectUser(state.users[0].id);
    showView("list");  // a phone opens on the chat list; a wide screen on the first chat
  }
  $("back").addEventListener("click", () => showView("list"));

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    $("text").value = "";
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
