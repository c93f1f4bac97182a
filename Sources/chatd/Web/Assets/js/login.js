// The sign-in form. It never creates an account by itself: the first attempt sends
// `register: false`, and only when the server says the name has no account (`no_account`, open
// registration only) does the form ask whether to create it. A typo in a name thus fails
// visibly instead of becoming a second, empty account.

import { $ } from './dom.js';
import * as api from './api.js';

let onSignedIn = () => {};
let asked = null;   // {username, password} while the "create it?" question is shown

export function initLogin(callbacks) {
  onSignedIn = callbacks.onSignedIn;
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    // never `register: true` from Enter: with the question open this asks again
    attempt(false);
  });
  $('login-create-yes').addEventListener('click', () => attempt(true));
  $('login-create-no').addEventListener('click', () => {
    closeQuestion();
    say('', 'info');
    $('login-name').select();
    $('login-name').focus();
  });
  // the question is about the name typed when it was asked: editing the fields withdraws it
  for (const id of ['login-name', 'login-password']) {
    $(id).addEventListener('input', () => { if (asked && !sameCredentials()) closeQuestion(); });
  }
}

/** Shows the form (the caller has hidden the rest) with an optional message. */
export function showLoginForm(message = '', kind = 'info') {
  closeQuestion();
  say(message, kind);
  setBusy(false);
  $('login-password').value = '';
  $('login-name').focus();
}

const sameCredentials = () => asked && $('login-name').value.trim() === asked.username && $('login-password').value === asked.password;

function say(text, kind) {
  const msg = $('login-msg');
  msg.textContent = text;
  msg.dataset.kind = kind;
}

function setBusy(busy) {
  for (const id of ['login-submit', 'login-create-yes', 'login-create-no']) $(id).disabled = busy;
}

function ask(username, password) {
  asked = { username, password };
  say('', 'info');
  $('login-create-text').textContent = `No account '${username}' — create it?`;
  $('login-create').hidden = false;
  $('login-submit').hidden = true;
  $('login-create-yes').textContent = `Create account '${username}'`;
  // focus the question, not its button: a second Enter typed out of habit must not create it
  $('login-create').focus();
}

function closeQuestion() {
  asked = null;
  $('login-create').hidden = true;
  $('login-submit').hidden = false;
}

async function attempt(register) {
  const username = $('login-name').value.trim();
  const password = $('login-password').value;
  if (!username || !password) {
    say('Enter a name and a password.', 'error');
    return;
  }
  setBusy(true);
  say(register ? 'Creating the account…' : 'Signing in…', 'info');
  const result = await api.login(username, password, register).catch(() => null);
  setBusy(false);
  if (!result) {
    say('Cannot reach the server. Check your connection and try again.', 'error');
  } else if (result.ok) {
    closeQuestion();
    say('', 'info');
    onSignedIn(result.data?.username || username, !!result.data?.created);
  } else if (result.status === 401 && api.errorCode(result) === 'no_account' && !register) {
    ask(username, password);
  } else if (result.status === 401) {
    closeQuestion();
    say('Wrong name or password.', 'error');
    $('login-password').select();
  } else if (result.status === 429) {
    closeQuestion();
    const wait = parseInt(result.headers.get('Retry-After') || '', 10);
    say(`Too many failed attempts: sign-in is locked${Number.isFinite(wait) ? ` for ${wait} s` : ' for a while'}. Try again later.`, 'error');
  } else {
    // e.g. a name the server refuses (bad characters, reserved) when creating it
    say(api.errorMessage(result, 'Sign-in failed.'), 'error');
  }
}
