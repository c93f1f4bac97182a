// The page's panels. Wide: chats and users on the left, files on the right, the files panel
// collapsible (remembered in localStorage). Narrow (a phone): chats and users are one drawer
// opened from the header, and the files are a view of their own instead of a panel below the
// chat, so the composer stays pinned to the bottom of the screen.

import { $ } from './dom.js';

const NARROW = window.matchMedia('(max-width: 800px)');
const COLLAPSED_KEY = 'chatd:files-collapsed';

const app = () => $('app-view');

function storedCollapsed() {
  try { return localStorage.getItem(COLLAPSED_KEY) === '1'; } catch { return false; }
}

function storeCollapsed(collapsed) {
  try {
    if (collapsed) localStorage.setItem(COLLAPSED_KEY, '1'); else localStorage.removeItem(COLLAPSED_KEY);
  } catch { /* storage disabled: the panel is open again next time */ }
}

export function setDrawer(open) {
  // the drawer is a layout of narrow screens only; on wide ones its contents are always shown
  const isOpen = open && NARROW.matches;
  app().classList.toggle('drawer-open', isOpen);
  $('drawer-btn').setAttribute('aria-expanded', String(isOpen));
  $('drawer-backdrop').hidden = !isOpen;
  if (isOpen) ($('drawer').querySelector('.tab.active') || $('drawer-close')).focus();
}

/** Phone: show the files instead of the chat (or back). */
export function setFilesView(open) {
  app().classList.toggle('files-view', open);
  syncFilesButton();
}

function syncFilesButton() {
  const button = $('files-btn');
  if (NARROW.matches) {
    const open = app().classList.contains('files-view');
    button.setAttribute('aria-pressed', String(open));
    button.textContent = open ? 'Chat' : 'Files';
    button.title = open ? 'Back to the conversation' : 'Show the files';
  } else {
    const collapsed = app().classList.contains('files-collapsed');
    button.setAttribute('aria-pressed', String(!collapsed));
    button.textContent = 'Files';
    button.title = collapsed ? 'Show the files panel' : 'Hide the files panel';
  }
}

export function initLayout() {
  app().classList.toggle('files-collapsed', storedCollapsed());
  syncFilesButton();
  $('drawer-btn').addEventListener('click', () => setDrawer(!app().classList.contains('drawer-open')));
  $('drawer-backdrop').addEventListener('click', () => setDrawer(false));
  $('drawer-close').addEventListener('click', () => { setDrawer(false); $('drawer-btn').focus(); });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && app().classList.contains('drawer-open')) {
      setDrawer(false);
      $('drawer-btn').focus();
    }
  });
  $('files-btn').addEventListener('click', () => {
    if (NARROW.matches) {
      setFilesView(!app().classList.contains('files-view'));
    } else {
      const collapsed = !app().classList.contains('files-collapsed');
      app().classList.toggle('files-collapsed', collapsed);
      storeCollapsed(collapsed);
      syncFilesButton();
    }
  });
  NARROW.addEventListener('change', () => {
    setDrawer(false);
    syncFilesButton();
  });
}
