// Client-side state: who we are, users, chats with their messages, files. Views read it;
// chat.js and files.js change it. Names are compared case-insensitively (PROTOCOL.md §1),
// so chats are keyed by the lower-cased name and keep the server's spelling for display.

export const BROADCAST = 'broadcast';

export const state = {
  me: null,                       // our username, server spelling
  users: new Map(),               // key → {name, online}
  chats: new Map(),               // key → chat (see newChat)
  active: BROADCAST,              // key of the chat shown
  files: new Map(),               // name → {name, owner, size, uploaded_at, sha256}
  limits: { message_chars: 4000, file_bytes: 0 },
  typing: new Map(),              // chat key → timeout id while that user types
  online: false,                  // our WebSocket session is live (between welcome and close)
};

export const keyOf = (name) => (name === BROADCAST ? BROADCAST : String(name).toLowerCase());
export const sameName = (a, b) => a != null && b != null && keyOf(a) === keyOf(b);
export const isMine = (message) => sameName(message.from, state.me);

function newChat(key, title) {
  return {
    key,
    title,                        // "Broadcast" or the other user's name
    wire: key === BROADCAST ? BROADCAST : title,   // the `chat` value in frames
    messages: new Map(),          // id → message: a Map so a message seen twice is kept once
    unread: 0,
    hasMore: false,               // older messages exist on the server
    loaded: false,                // the latest page has been fetched at least once
    pending: [],                  // kinds of our history requests in flight, answered in order
    readSent: 0,                  // highest id we sent a `read` for
    divider: null,                // id of the first message that was unread when the chat was opened
  };
}

/** The chat for "broadcast" or a user's name, created on first use. */
export function ensureChat(name) {
  const key = keyOf(name);
  let chat = state.chats.get(key);
  if (!chat) {
    const user = state.users.get(key);
    chat = newChat(key, key === BROADCAST ? 'Broadcast' : (user ? user.name : String(name)));
    state.chats.set(key, chat);
  }
  return chat;
}

/** The chat a `message` frame belongs to: broadcast, or the other party of a direct one. */
export function chatNameOf(message) {
  if (!message.is_direct) return BROADCAST;
  return isMine(message) ? message.to : message.from;
}

export function sortedMessages(chat) {
  return [...chat.messages.values()].sort((a, b) => a.id - b.id);
}

export function newestId(chat) {
  let max = 0;
  for (const id of chat.messages.keys()) if (id > max) max = id;
  return max;
}

export function oldestId(chat) {
  let min = Infinity;
  for (const id of chat.messages.keys()) if (id < min) min = id;
  return min === Infinity ? 0 : min;
}

export function totalUnread() {
  let total = 0;
  for (const chat of state.chats.values()) total += chat.unread;
  return total;
}

/** Users sorted online first, then by name. */
export function sortedUsers() {
  return [...state.users.values()].sort((a, b) =>
    (b.online - a.online) || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
}

/** Files sorted by the bytes of the UTF-8 name, as the server lists them. */
export function sortedFiles() {
  const enc = new TextEncoder();
  const cmp = (a, b) => {
    const x = enc.encode(a.name), y = enc.encode(b.name);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  return [...state.files.values()].sort(cmp);
}

/** Direct chats the user opened, remembered per account across reloads (names only). */
const tabsKey = () => `chatd:tabs:${keyOf(state.me)}`;
export function saveTabs() {
  try {
    const names = [...state.chats.values()].filter((c) => c.key !== BROADCAST).map((c) => c.title);
    localStorage.setItem(tabsKey(), JSON.stringify({ names, active: state.active }));
  } catch { /* storage may be disabled: tabs are a convenience */ }
}
export function loadTabs() {
  try {
    const saved = JSON.parse(localStorage.getItem(tabsKey()) || 'null');
    if (!saved) return;
    for (const name of saved.names || []) if (typeof name === 'string') ensureChat(name);
    if (typeof saved.active === 'string' && state.chats.has(saved.active)) state.active = saved.active;
  } catch { /* ignore a damaged entry */ }
}

export function resetState() {
  state.me = null;
  state.users.clear();
  state.chats.clear();
  state.files.clear();
  state.active = BROADCAST;
  state.online = false;
  for (const t of state.typing.values()) clearTimeout(t);
  state.typing.clear();
}
