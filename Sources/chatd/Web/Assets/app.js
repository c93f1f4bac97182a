// chatd's browser UI: entry point and controller. It wires the login, the WebSocket session
// and the views together; state lives in js/state.js, rendering in js/chat-view.js and
// js/files.js. No framework, no build step: plain ES modules under a strict CSP.

import { $, charCount } from './js/dom.js';
import * as api from './js/api.js';
import { Connection } from './js/socket.js';
import {
  state, BROADCAST, keyOf, ensureChat, chatNameOf, isMine, newestId, oldestId,
  saveTabs, loadTabs, resetState,
} from './js/state.js';
import {
  initChatView, renderTabs, renderUsers, renderMessages, renderTyping, renderStatus, showNotice, hideNotice,
} from './js/chat-view.js';
import { initFiles, refreshFiles, renderFiles, handleFileEvent } from './js/files.js';

const HISTORY_PAGE = 50;
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
  $('boot').hidden = true;
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  const msg = $('login-msg');
  msg.textContent = message;
  msg.dataset.kind = kind;
  $('login-submit').disabled = false;
  $('login-password').value = '';
  $('login-name').focus();
}

function startSession(username, notice) {
  resetState();
  state.me = username;
  ensureChat(BROADCAST);
  $('me-name').textContent = username;
  $('boot').hidden = true;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  if (notice) showNotice(notice, 'ok'); else hideNotice();
  renderAll();
  connection.start();
  refreshFiles();
  $('composer-input').focus();
}

async function onLoginSubmit(event) {
  event.preventDefault();
  const username = $('login-name').value.trim();
  const password = $('login-password').value;
  const msg = $('login-msg');
  if (!username || !password) {
    msg.textContent = 'Enter a name and a password.';
    msg.dataset.kind = 'error';
    return;
  }
  $('login-submit').disabled = true;
  msg.textContent = 'Signing in…';
  msg.dataset.kind = 'info';
  const result = await api.login(username, password).catch(() => null);
  $('login-submit').disabled = false;
  if (!result) {
    msg.textContent = 'Cannot reach the server. Check your connection and try again.';
    msg.dataset.kind = 'error';
  } else if (result.ok) {
    const name = result.data?.username || username;
    startSession(name, result.data?.created ? `Account "${name}" created. Welcome to chatd!` : null);
  } else if (result.status === 401) {
    msg.textContent = 'Wrong name or password.';
    msg.dataset.kind = 'error';
    $('login-password').select();
  } else if (result.status === 429) {
    const wait = parseInt(result.headers.get('Retry-After') || '', 10);
    msg.textContent = `Too many failed attempts: sign-in is locked${Number.isFinite(wait) ? ` for ${wait} s` : ' for a while'}. Try again later.`;
    msg.dataset.kind = 'error';
  } else {
    msg.textContent = api.errorMessage(result, 'Sign-in failed.');
    msg.dataset.kind = 'error';
  }
}

async function onLogout() {
  connection.stop();
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
  loadTabs();
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
  if (connection.send({ type: 'history', chat: chat.wire, limit: HISTORY_PAGE })) chat.pending.push({ kind: 'latest', floor: newestId(chat) });
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
    renderMessages(firstLoad ? 'force-bottom' : 'bottom');
    markRead(chat);
  }
  renderTabs();
}

function onMessage(message) {
  const chat = ensureChat(chatNameOf(message));
  if (chat.messages.has(message.id)) return;          // seen already (e.g. via history)
  chat.messages.set(message.id, message);
  if (!isMine(message)) {
    stopTyping(chat.key);
    if (!(chat.key === state.active && pageVisible())) chat.unread++;
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

const unsent = new Map();  // client_id → text, so a refused message can be put back

function onError(frame) {
  const text = ERROR_TEXT[frame.code] || frame.message || 'The server refused the request.';
  showNotice(`${text}${frame.message && ERROR_TEXT[frame.code] ? ` (${frame.message})` : ''}`, 'error', 8000);
  if (frame.client_id && unsent.has(frame.client_id)) {
    const input = $('composer-input');
    if (!input.value) { input.value = unsent.get(frame.client_id); updateComposer(); }
    unsent.delete(frame.client_id);
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
  state.active = chat.key;
  if (!chat.loaded && !chat.pending.length) requestLatest(chat);
  saveTabs();
  renderTabs();
  renderMessages('force-bottom');
  renderTyping();
  markRead(chat);
  updateComposer();
  $('composer-input').focus();
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
  $('send-btn').disabled = n === 0 || n > limit;
  const chat = state.chats.get(state.active);
  input.placeholder = chat && chat.key !== BROADCAST
    ? `Message ${chat.title} — Enter sends, Shift+Enter new line`
    : 'Message everyone — Enter sends, Shift+Enter new line';
}

function sendMessage() {
  const input = $('composer-input');
  const text = input.value.trim();
  const limit = state.limits.message_chars || 4000;
  if (!text || charCount(text) > limit) return;
  const chat = state.chats.get(state.active) || ensureChat(BROADCAST);
  const clientId = (crypto.randomUUID?.() || `${Date.now()}-${Math.random()}`).slice(0, 64);
  const frame = chat.key === BROADCAST
    ? { type: 'broadcast', message: text, client_id: clientId }
    : { type: 'direct', to: chat.wire, message: text, client_id: clientId };
  if (!connection.send(frame)) {
    showNotice('Not connected: your message was not sent (it is still in the box).', 'error', 6000);
    return;
  }
  unsent.set(clientId, text);
  if (unsent.size > 50) unsent.delete(unsent.keys().next().value);
  input.value = '';
  lastTypingSent = 0;
  updateComposer();
}

let lastTypingSent = 0;
function onComposerInput() {
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
  $('login-form').addEventListener('submit', onLoginSubmit);
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
  $('messages').addEventListener('scroll', () => {
    if ($('messages').scrollTop < 80) loadOlder();
  });
  document.addEventListener('visibilitychange', () => {
    const chat = state.chats.get(state.active);
    if (chat && state.me) markRead(chat);
  });
  boot();
}

async function boot() {
  // the HttpOnly cookie survives reloads: /api/me says whether it is still good
  const result = await api.me().catch(() => null);
  if (result?.ok && result.data?.username) startSession(result.data.username);
  else showLogin(result ? '' : 'Cannot reach the server. Reload to try again.', result ? 'info' : 'error');
}

init();
