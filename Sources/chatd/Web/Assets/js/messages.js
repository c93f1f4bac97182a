// How the message pane reads: messages grouped by sender, day lines, the "new messages"
// divider, action lines (`/me`) and links. Everything is built with DOM calls from text: a
// message can never become markup, and only http(s) addresses become links.

import { h, formatClock, formatDay, dayKey } from './dom.js';
import { sameName, isMine } from './state.js';

/** Messages of one sender this close together share one header (name and time). */
export const GROUP_GAP_MS = 5 * 60 * 1000;

// An address runs to the next white space or character that cannot be in a URL unescaped;
// the look-behind keeps `xhttp://` and `javascript:http://` from linking half a word.
const URL_PATTERN = /(?<![\w:/])https?:\/\/[^\s<>"'`\u0000-\u001f\u007f]+/gi;
const TRAILING = /[.,;:!?*'"]+$/;

/** Trailing punctuation belongs to the sentence, not the URL; a `)` only when it closes one. */
function trimUrl(text) {
  let url = text.replace(TRAILING, '');
  for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']]) {
    while (url.endsWith(close) && url.split(close).length > url.split(open).length) {
      url = url.slice(0, -1).replace(TRAILING, '');
    }
  }
  return url;
}

function safeHref(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The text as a list of strings and <a> elements for its http(s) addresses. No previews. */
export function linkify(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const shown = trimUrl(match[0]);
    const href = safeHref(shown);
    if (!href) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer', class: 'msg-link' }, shown));
    last = match.index + shown.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** "* alice waves" from alice is an action (chat-tui's `/me waves`), shown like IRC. */
export function isAction(message) {
  const text = String(message.message || '');
  if (!text.startsWith('* ')) return false;
  const name = String(message.from || '');
  return text.length > name.length + 3 && text[name.length + 2] === ' ' && sameName(text.slice(2, name.length + 2), name);
}

const fullTime = (ts) => new Date(ts).toLocaleString();

function messageText(message) {
  // textContent through h(): a message is text, never markup
  return h('div', { class: 'msg-text' }, linkify(String(message.message ?? '')));
}

function actionElement(message) {
  return h('article', { class: `msg action${isMine(message) ? ' mine' : ''}`, dataset: { id: String(message.id) }, title: fullTime(message.ts) },
    messageText(message));
}

function messageElement(message, first) {
  const mine = isMine(message);
  const meta = first ? h('div', { class: 'msg-meta' },
    h('span', { class: 'msg-from' }, message.from),
    h('time', { class: 'msg-time', datetime: message.ts, title: fullTime(message.ts) }, formatClock(message.ts))) : null;
  return h('article', {
    class: `msg${mine ? ' mine' : ''}${first ? ' first' : ' cont'}`,
    dataset: { id: String(message.id) },
    // a continuation has no header (the day line above says which day): its time is in the tooltip
    title: first ? null : fullTime(message.ts),
  }, meta, messageText(message));
}

/**
 * The pane's children for `messages` (sorted by id): day lines, groups of messages by one
 * sender, action lines, and the "new messages" divider above the message `dividerId`.
 */
export function buildMessageList(messages, dividerId) {
  const children = [];
  let day = null;
  let group = null;      // {el, from, ts} of the group being filled
  for (const message of messages) {
    const thisDay = dayKey(message.ts);
    const breaks = [];
    if (thisDay !== day) {
      breaks.push(h('p', { class: 'day-sep', role: 'separator' }, h('span', {}, formatDay(message.ts))));
      day = thisDay;
    }
    if (message.id === dividerId) {
      breaks.push(h('div', { id: 'unread-divider', class: 'unread-divider', role: 'separator' }, h('span', {}, 'New messages')));
    }
    if (breaks.length) { children.push(...breaks); group = null; }
    if (isAction(message)) {
      children.push(actionElement(message));
      group = null;
      continue;
    }
    const ts = Date.parse(message.ts);
    if (group && sameName(group.from, message.from) && ts - group.ts < GROUP_GAP_MS && ts >= group.ts) {
      group.el.append(messageElement(message, false));
      group.ts = ts;
      continue;
    }
    const el = h('div', { class: `group${isMine(message) ? ' mine' : ''}` }, messageElement(message, true));
    children.push(el);
    group = { el, from: message.from, ts };
  }
  return children;
}
