// Unsent text, one draft per chat. The composer is shared by every chat, so without this the
// text typed to one person would still be in the box after switching to Broadcast, one Enter
// away from going to everyone. Drafts live in sessionStorage: they survive a reload of this tab
// but not the browser session, and are keyed by account so that two users of one tab never
// see each other's.

import { state, keyOf } from './state.js';

const drafts = new Map();   // chat key → text

const storageKey = () => `chatd:drafts:${keyOf(state.me)}`;

export function loadDrafts() {
  drafts.clear();
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey()) || '{}');
    for (const [key, text] of Object.entries(saved)) if (typeof text === 'string' && text) drafts.set(key, text);
  } catch { /* storage disabled or a damaged entry: drafts are a convenience */ }
}

function save() {
  try {
    if (drafts.size) sessionStorage.setItem(storageKey(), JSON.stringify(Object.fromEntries(drafts)));
    else sessionStorage.removeItem(storageKey());
  } catch { /* see loadDrafts */ }
}

export const draftOf = (key) => drafts.get(key) || '';

export function setDraft(key, text) {
  if (text) drafts.set(key, text); else drafts.delete(key);
  save();
}

/** On sign-out: the next person at this tab must not find our unsent text. */
export function forgetDrafts() {
  drafts.clear();
  save();
}
