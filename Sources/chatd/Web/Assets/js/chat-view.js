// Rendering of the chat list, users panel, message pane and typing line. Pure DOM building
// from `state`; user actions go back through the callbacks given to initChatView.

import { $, h } from './dom.js';
import { state, BROADCAST, sortedMessages, sortedUsers, totalUnread, sameName } from './state.js';
import { buildMessageList } from './messages.js';

let actions = { openChat() {}, loadOlder() {} };

export function initChatView(callbacks) {
  actions = callbacks;
}

function badge(count) {
  if (!count) return null;
  return h('span', { class: 'badge', 'aria-label': `${count} unread` }, count > 99 ? '99+' : String(count));
}

export function renderTabs() {
  const list = $('chat-tabs');
  const chats = [...state.chats.values()].sort((a, b) =>
    (a.key === BROADCAST ? -1 : b.key === BROADCAST ? 1 : a.title.localeCompare(b.title)));
  list.replaceChildren(...chats.map((chat) => {
    const active = chat.key === state.active;
    const user = state.users.get(chat.key);
    return h('button', {
      type: 'button', role: 'listitem',
      class: `tab${active ? ' active' : ''}${chat.unread ? ' has-unread' : ''}`,
      dataset: { chat: chat.key },
      'aria-current': active ? 'page' : null,
      onclick: () => actions.openChat(chat.key),
    },
    chat.key === BROADCAST ? h('span', { class: 'tab-icon', 'aria-hidden': 'true' }, '#')
      : h('span', { class: `dot${user?.online ? ' online' : ''}`, 'aria-hidden': 'true' }),
    h('span', { class: 'tab-name' }, chat.title),
    badge(chat.unread));
  }));
  const total = totalUnread();
  document.title = total ? `(${total}) chatd` : 'chatd';
  // on a phone the chat list hides in the drawer: its button carries the total
  const drawerBadge = $('drawer-badge');
  drawerBadge.hidden = !total;
  drawerBadge.textContent = total > 99 ? '99+' : String(total);
  $('drawer-btn').setAttribute('aria-label', total ? `Chats and users, ${total} unread` : 'Chats and users');
  const current = state.chats.get(state.active);
  $('chat-title').textContent = current ? (current.key === BROADCAST ? 'Broadcast — everyone' : `Direct — ${current.title}`) : '';
}

export function renderUsers() {
  $('user-list').replaceChildren(...sortedUsers().map((user) => {
    const me = sameName(user.name, state.me);
    // our own dot follows our connection: green only while this page really is online
    const online = me ? state.online : user.online;
    const status = online ? 'online' : 'offline';
    const content = [h('span', { class: `dot${online ? ' online' : ''}`, 'aria-hidden': 'true' }),
      h('span', { class: 'user-name' }, user.name),
      me ? h('span', { class: 'muted small' }, ' (you)') : null];
    return h('li', { class: `user ${status}`, dataset: { user: user.name } },
      me ? h('span', { class: 'user-btn self', title: status }, ...content)
        : h('button', { type: 'button', class: 'user-btn', title: `${status} — open a direct chat`,
          'aria-label': `${user.name}, ${status}, open direct chat`, onclick: () => actions.openChat(user.name) }, ...content));
  }));
}

/**
 * Re-renders the active chat's messages. `anchor`: 'bottom' sticks to the newest message when
 * the user was already there; 'keep-top' keeps the view still while older messages are added
 * above; 'divider' starts the view at the "new messages" divider (or the bottom without one).
 */
export function renderMessages(anchor = 'bottom') {
  const pane = $('messages');
  const chat = state.chats.get(state.active);
  const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 60;
  const fromBottom = pane.scrollHeight - pane.scrollTop;
  const children = [];
  if (chat) {
    if (chat.hasMore) {
      children.push(h('button', { type: 'button', class: 'load-older link', onclick: () => actions.loadOlder() }, 'Load older messages'));
    } else if (chat.loaded && chat.messages.size) {
      children.push(h('p', { class: 'history-start muted small' }, 'Start of the conversation'));
    }
    children.push(...buildMessageList(sortedMessages(chat), chat.divider));
    if (chat.loaded && chat.messages.size === 0) {
      children.push(h('p', { class: 'empty muted' }, chat.key === BROADCAST ? 'No messages yet. Say hello!' : `No messages with ${chat.title} yet.`));
    }
  }
  pane.replaceChildren(...children);
  const divider = $('unread-divider');
  if (anchor === 'keep-top') pane.scrollTop = pane.scrollHeight - fromBottom;
  else if (anchor === 'divider' && divider) {
    // a little of what was read stays in view above the divider, for context
    pane.scrollTop = Math.max(0, divider.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop - 48);
  } else if (anchor === 'force-bottom' || anchor === 'divider' || atBottom) pane.scrollTop = pane.scrollHeight;
}

export function renderTyping() {
  const line = $('typing');
  const chat = state.chats.get(state.active);
  line.textContent = chat && chat.key !== BROADCAST && state.typing.has(chat.key) ? `${chat.title} is typing…` : '';
}

const STATUS_TEXT = { connecting: 'Connecting…', online: 'Online', stopped: 'Offline' };

export function renderStatus(status, detail) {
  const was = state.online;
  state.online = status === 'online';
  if (was !== state.online && state.me) renderUsers();
  const el = $('conn-status');
  el.dataset.state = status;
  el.textContent = status === 'waiting' ? `Disconnected — retrying in ${Math.ceil(detail / 1000)} s` : STATUS_TEXT[status] || status;
}

let noticeTimer = null;
/** A dismissable line above the messages (account created, errors from the server). */
export function showNotice(text, kind = 'info', ms = 0) {
  clearTimeout(noticeTimer);
  $('notice-text').textContent = text;
  $('notice').dataset.kind = kind;
  $('notice').hidden = false;
  if (ms) noticeTimer = setTimeout(hideNotice, ms);
}
export function hideNotice() {
  $('notice').hidden = true;
}
