// chatd's browser UI: entry point and controller. It wires the login, the WebSocket session
// and the views together; state lives in js/state.js, rendering in js/chat-view.js and
// js/files.js. No framework, no build step: plain ES modules under a strict CSP.

import { $, charCount, formatCount } from './js/dom.js';
import * as api from './js/api.js';
import { Connection } from './js/socket.js';
import {
  state, BROADCAST, keyOf, ensureChat, chatNameOf, isMine, newestId, oldestId, sortedMessages,
  saveTabs, loadTabs, resetState,
} from './js/state.js';
import {
  initChatView, renderTabs, renderUsers, renderMessages, renderTyping, renderStatus, showNotice, hideNotice,
} from './js/chat-view.js';
import { initFiles, refreshFiles, renderFiles, handleFileEvent } from './js/files.js';
import { initLogin, showLoginForm } from './js/login.js';
import { loadDrafts, draftOf, setDraft, forgetDrafts } from './js/drafts.js';
import { initLayout, setDrawer, setFilesView } from './js/layout.js';

const HISTORY_PAGE = 50;
const HISTORY_MAX = 200;          // the server's largest `history` page
const CATCH_UP_PAGE = 200;
const TYPING_SEND_EVERY = 3000;   // ms between our typing notices
const TYPING_SHOW_FOR = 5000;     // ms a received notice is shown

const connection = new Connection({
  onFrame: handleFrame,
  onStatus: renderStatus,
  shouldRetry: async () => {
    const result = await api.me().catch(() => null);
    if (result?.status === 401) {
      showLogin('Your session has ended. Please sign in again.');
      return false;
    }
    return true;     // signed in, or server unreachable: keep trying
  },
});

// ---------------------------------------------------------------------------------------------
// login / logout

function showLogin(message = '', kind = 'info') {
  connection.stop();
  resetState();
  setDrawer(false);
  $('boot').hidden = true;
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  showLoginForm(message, kind);
}

function startSession(username, created = false) {
  resetState();
  state.me = username;
  loadDrafts();
  ensureChat(BROADCAST);
  $('me-name').textContent = username;
  $('boot').hidden = true;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  if (created) showNotice(`Account "${username}" created. Welcome to chatd!`, 'ok'); else hideNotice();
  showDraft();
  renderAll();
  connection.start();
  refreshFiles();
  $('composer-input').focus();
}

async function onLogout() {
  connection.stop();
  forgetDrafts();
  await api.logout().catch(() => null);
  showLogin('You are signed out.');
}

// ---------------------------------------------------------------------------------------------
// server frames

function handleFrame(frame) {
  switch (frame.type) {
    case 'welcome': return onWelcome(frame);
    case 'message': return onMessage(frame);
    case 'history': return onHistory(frame);
    case 'info': return onInfo(frame);
    case 'users': return setUsers(frame.users);
    case 'read': return onRead(frame);
    case 'typing': return onTyping(frame);
    case 'file': return handleFileEvent(frame);
    case 'error': return onError(frame);
    default: return undefined;   // newer server, older UI: ignore what we do not know
  }
}

function setUsers(users) {
  if (!Array.isArray(users)) return;
  state.users.clear();
  for (const u of users) state.users.set(keyOf(u.name), { name: u.name, online: !!u.online });
  // a chat opened before we knew the user's spelling takes the server's
  for (const chat of state.chats.values()) {
    const user = state.users.get(chat.key);
    if (user && chat.key !== BROADCAST) { chat.title = user.name; chat.wire = user.name; }
  }
  renderUsers();
  renderTabs();
}

function onWelcome(frame) {
  state.me = frame.username || state.me;
  $('me-name').textContent = state.me;
  if (frame.limits) state.limits = frame.limits;
  const before = state.active;
  loadTabs();
  if (state.active !== before) showDraft();
  setUsers(frame.users);
  // the server's unread counts are authoritative after every (re)connection
  for (const chat of state.chats.values()) chat.unread = 0;
  for (const [name, count] of Object.entries(frame.unread || {})) ensureChat(name).unread = count;
  // catch up: ask again for the latest page of every chat we have shown; answers are merged
  // by id, so nothing is duplicated
  for (const chat of state.chats.values()) {
    chat.pending = [];
    if (chat.loaded || chat.key === state.active) requestLatest(chat);
  }
  // file events may have been missed while disconnected
  refreshFiles();
  renderAll();
  updateComposer();
}

function requestLatest(chat) {
  // the first page of a chat with unread messages reaches back to the first unread one (up to
  // the server's largest page), so that the view can start there
  const limit = chat.loaded ? HISTORY_PAGE : Math.min(HISTORY_MAX, Math.max(HISTORY_PAGE, chat.unread + 10));
  if (connection.send({ type: 'history', chat: chat.wire, limit })) chat.pending.push({ kind: 'latest', floor: newestId(chat) });
}

function addMessages(chat, messages) {
  let added = 0;
  for (const m of messages) {
    if (typeof m.id !== 'number' || chat.messages.has(m.id)) continue;
    chat.messages.set(m.id, m);
    added++;
  }
  return added;
}

function onHistory(frame) {
  const chat = ensureChat(frame.chat);
  const request = chat.pending.shift() || { kind: 'latest', floor: newestId(chat) };
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  if (request.kind === 'older') {
    chat.hasMore = !!frame.has_more;
    addMessages(chat, messages);
    if (chat.key === state.active) renderMessages('keep-top');
    return;
  }
  // 'latest' or 'catch-up': newest messages, maybe with a gap above what we had before
  const firstLoad = !chat.loaded;
  addMessages(chat, messages);
  chat.loaded = true;
  if (firstLoad) chat.hasMore = !!frame.has_more;
  const first = messages.length ? messages[0].id : 0;
  if (!firstLoad && frame.has_more && first > request.floor) {
    // more was missed than one page holds: page back until we reach what we had
    if (connection.send({ type: 'history', chat: chat.wire, before: first, limit: CATCH_UP_PAGE })) {
      chat.pending.push({ kind: 'catch-up', floor: request.floor });
    }
  }
  if (chat.key === state.active) {
    const divided = placeDivider(chat);
    renderMessages(firstLoad ? (divided ? 'divider' : 'force-bottom') : 'bottom');
    markRead(chat);
  }
  renderTabs();
}

/**
 * Marks the first unread message of `chat` (from the unread count: the server's read marker
 * is not sent to us, but unread = others' messages after it) for the "new messages" divider.
 * Returns whether there is one. The divider stays until the chat is left.
 */
function placeDivider(chat) {
  if (chat.divider != null) return true;
  if (!chat.unread || !chat.loaded) return false;
  const others = sortedMessages(chat).filter((m) => !isMine(m));
  if (!others.length) return false;
  // more unread than loaded: the divider goes above the oldest we have
  chat.divider = others[Math.max(0, others.length - chat.unread)].id;
  return true;
}

function onMessage(message) {
  const chat = ensureChat(chatNameOf(message));
  if (chat.messages.has(message.id)) return;          // seen already (e.g. via history)
  chat.messages.set(message.id, message);
  if (!isMine(message)) {
    stopTyping(chat.key);
    if (!(chat.key === state.active && pageVisible())) {
      chat.unread++;
      // read later in a hidden tab: the divider shows where the new ones start
      if (chat.key === state.active && chat.divider == null) chat.divider = message.id;
    }
  }
  if (chat.key === state.active) {
    renderMessages(isMine(message) ? 'force-bottom' : 'bottom');
    markRead(chat);
  }
  if (chat.key !== BROADCAST) saveTabs();
  renderTabs();
}

function onInfo(frame) {
  if (!frame.user) return;
  const key = keyOf(frame.user);
  const user = state.users.get(key) || { name: frame.user, online: false };
  user.online = frame.event === 'join';
  state.users.set(key, user);
  renderUsers();
  renderTabs();
}

function onRead(frame) {
  // another of our sessions read this chat
  const chat = ensureChat(frame.chat);
  chat.readSent = Math.max(chat.readSent, frame.up_to || 0);
  chat.unread = [...chat.messages.values()].filter((m) => m.id > chat.readSent && !isMine(m)).length;
  renderTabs();
}

function onTyping(frame) {
  if (!frame.from || keyOf(frame.from) === keyOf(state.me)) return;
  const chat = ensureChat(frame.from);
  clearTimeout(state.typing.get(chat.key));
  state.typing.set(chat.key, setTimeout(() => stopTyping(chat.key), TYPING_SHOW_FOR));
  renderTyping();
  renderTabs();
}

function stopTyping(key) {
  clearTimeout(state.typing.get(key));
  if (state.typing.delete(key)) renderTyping();
}

const ERROR_TEXT = {
  too_long: 'Message too long.', empty: 'Message is empty.', unknown_user: 'No such user.',
  rate_limited: 'You are sending too fast; the message was not sent.',
};

const unsent = new Map();  // client_id → {key, text}, so a refused message can be put back

function onError(frame) {
  const text = ERROR_TEXT[frame.code] || frame.message || 'The server refused the request.';
  showNotice(`${text}${frame.message && ERROR_TEXT[frame.code] ? ` (${frame.message})` : ''}`, 'error', 8000);
  const refused = frame.client_id && unsent.get(frame.client_id);
  if (refused) {
    unsent.delete(frame.client_id);
    // back into the draft of the chat it was meant for, which need not be the one shown now
    if (!draftOf(refused.key)) {
      setDraft(refused.key, refused.text);
      if (refused.key === state.active) showDraft();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// reading, chats, composer

const pageVisible = () => document.visibilityState === 'visible' && !$('app-view').hidden;

/** Tells the server the visible chat is read up to its newest message. */
function markRead(chat) {
  if (chat.key !== state.active || !pageVisible()) return;
  const newest = newestId(chat);
  if (newest && newest > chat.readSent) {
    if (connection.send({ type: 'read', chat: chat.wire, up_to: newest })) chat.readSent = newest;
  }
  if (chat.loaded && chat.unread) {
    chat.unread = 0;
    renderTabs();
  }
}

function openChat(name) {
  const chat = ensureChat(name);
  const previous = state.chats.get(state.active);
  if (previous && previous !== chat) previous.divider = null;   // the divider is for one visit
  state.active = chat.key;
  setDrawer(false);
  setFilesView(false);
  if (!chat.loaded && !chat.pending.length) requestLatest(chat);
  saveTabs();
  renderTabs();
  renderMessages(placeDivider(chat) ? 'divider' : 'force-bottom');
  renderTyping();
  markRead(chat);
  showDraft();
  $('composer-input').focus();
}

/** Puts the active chat's draft in the composer: text never travels from one chat to another. */
function showDraft() {
  const input = $('composer-input');
  input.value = draftOf(state.active);
  setComposerError('');
  updateComposer();
}

function setComposerError(text) {
  $('composer-error').textContent = text;
}

function loadOlder() {
  const chat = state.chats.get(state.active);
  if (!chat || !chat.hasMore || chat.pending.some((p) => p.kind === 'older')) return;
  if (connection.send({ type: 'history', chat: chat.wire, before: oldestId(chat), limit: HISTORY_PAGE })) {
    chat.pending.push({ kind: 'older' });
  }
}

function updateComposer() {
  const input = $('composer-input');
  const limit = state.limits.message_chars || 4000;
  const n = charCount(input.value.trim());
  const counter = $('char-count');
  // the counter appears near the limit only, to keep the composer quiet
  counter.textContent = n > limit * 0.8 ? `${n} / ${limit}` : '';
  counter.classList.toggle('over', n > limit);
  const chat = state.chats.get(state.active);
  input.placeholder = chat && chat.key !== BROADCAST
    ? `Message ${chat.title} — Enter sends, Shift+Enter new line`
    : 'Message everyone — Enter sends, Shift+Enter new line';
}

/** Why `text` cannot be sent, in the server's terms (trimmed, Unicode scalar values), or null. */
function refusal(text) {
  const limit = state.limits.message_chars || 4000;
  const n = charCount(text);
  if (!n) return 'Message is empty';
  if (n > limit) return `Message is ${formatCount(n)} characters; the limit is ${formatCount(limit)}`;
  return null;
}

function sendMessage() {
  const input = $('composer-input');
  const text = input.value.trim();
  // said next to the composer, the text stays: a silent Enter looks like a broken page
  const why = refusal(text);
  if (why) { setComposerError(why); return; }
  const chat = state.chats.get(state.active) || ensureChat(BROADCAST);
  const clientId = (crypto.randomUUID?.() || `${Date.now()}-${Math.random()}`).slice(0, 64);
  const frame = chat.key === BROADCAST
    ? { type: 'broadcast', message: text, client_id: clientId }
    : { type: 'direct', to: chat.wire, message: text, client_id: clientId };
  if (!connection.send(frame)) {
    setComposerError('Not connected: the message was not sent (it is still in the box)');
    return;
  }
  unsent.set(clientId, { key: chat.key, text });
  if (unsent.size > 50) unsent.delete(unsent.keys().next().value);
  input.value = '';
  setDraft(chat.key, '');
  setComposerError('');
  lastTypingSent = 0;
  updateComposer();
}

let lastTypingSent = 0;
function onComposerInput() {
  setDraft(state.active, $('composer-input').value);
  setComposerError('');
  updateComposer();
  const chat = state.chats.get(state.active);
  if (!chat || chat.key === BROADCAST || !$('composer-input').value) return;
  const now = Date.now();
  if (now - lastTypingSent > TYPING_SEND_EVERY && connection.send({ type: 'typing', to: chat.wire })) lastTypingSent = now;
}

function renderAll() {
  renderTabs();
  renderUsers();
  renderMessages('force-bottom');
  renderTyping();
  renderFiles();
}

// ---------------------------------------------------------------------------------------------
// start

function init() {
  initChatView({ openChat, loadOlder });
  initFiles();
  initLayout();
  initLogin({ onSignedIn: startSession });
  $('logout-btn').addEventListener('click', onLogout);
  $('notice-close').addEventListener('click', hideNotice);
  $('conn-status').addEventListener('click', () => connection.retryNow());
  window.addEventListener('online', () => connection.retryNow());
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
  const input = $('composer-input');
  input.addEventListener('input', onComposerInput);
  input.addEventListener('keydown', (e) => {
    // Enter sends, Shift+Enter is a new line; never while an IME is composing
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  const pane = $('messages');
  // a view that was at the newest message stays there when the pane changes size (a phone
  // turned, the keyboard opened, the files panel folded away)
  let stuck = true;
  pane.addEventListener('scroll', () => {
    stuck = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 8;
    if (pane.scrollTop < 80) loadOlder();
  });
  new ResizeObserver(() => { if (stuck) pane.scrollTop = pane.scrollHeight; }).observe(pane);
  document.addEventListener('visibilitychange', () => {
    const chat = state.chats.get(state.active);
    if (chat && state.me) markRead(chat);
  });
  boot();
}

async function boot() {
  // the HttpOnly cookie survives reloads: /api/me says whether it is still good
  const result = await api.me().catch(() => null);
  if (result?.ok && result.data?.username) startSession(result.data.username, false);
  else showLogin(result ? '' : 'Cannot reach the server. Reload to try again.', result ? 'info' : 'error');
}

init();
