// The files panel: listing (from GET /api/files, then live from `file` frames), uploads by
// picker or drag and drop with a progress bar, download links, delete for own files.

import { $, h, formatSize, formatTime } from './dom.js';
import * as api from './api.js';
import { state, sortedFiles, sameName } from './state.js';

export async function refreshFiles() {
  const result = await api.listFiles().catch(() => null);
  if (!result?.ok || !Array.isArray(result.data?.files)) return;
  state.files.clear();
  for (const file of result.data.files) state.files.set(file.name, file);
  renderFiles();
}

/** A `file` frame: added / replaced / deleted, whoever did it (HTTP or FTP). */
export function handleFileEvent(frame) {
  if (!frame.file?.name) return;
  if (frame.event === 'deleted') state.files.delete(frame.file.name);
  else state.files.set(frame.file.name, frame.file);
  renderFiles();
}

export function renderFiles() {
  const files = sortedFiles();
  const list = $('file-list');
  if (!files.length) {
    list.replaceChildren(h('li', { class: 'empty muted' }, 'No files yet.'));
    return;
  }
  list.replaceChildren(...files.map((file) => {
    const mine = sameName(file.owner, state.me);
    return h('li', { class: `file${mine ? ' mine' : ''}`, dataset: { name: file.name } },
      h('a', { class: 'file-name', href: api.fileUrl(file.name), download: file.name, title: `Download ${file.name}` }, file.name),
      h('span', { class: 'file-meta muted small' },
        h('span', { class: 'file-owner' }, file.owner), ' · ',
        h('span', { class: 'file-size' }, formatSize(file.size)), ' · ',
        h('time', { datetime: file.uploaded_at, title: new Date(file.uploaded_at).toLocaleString() }, formatTime(file.uploaded_at))),
      mine ? h('button', { type: 'button', class: 'delete danger small', 'aria-label': `Delete ${file.name}`, onclick: () => removeFile(file.name) }, 'Delete') : null);
  }));
}

async function removeFile(name) {
  if (!window.confirm(`Delete "${name}"? This cannot be undone.`)) return;
  const result = await api.deleteFile(name).catch(() => null);
  if (result?.status === 204 || result?.status === 404) {
    // the `file` frame will say the same; removing now makes the click feel immediate
    state.files.delete(name);
    renderFiles();
  } else {
    showUploadError(name, `Delete failed: ${result ? api.errorMessage(result) : 'server unreachable'}`);
  }
}

function showUploadError(name, text) {
  const row = h('li', { class: 'upload failed', role: 'alert' },
    h('span', { class: 'upload-name' }, name), h('span', { class: 'small' }, text),
    h('button', { type: 'button', class: 'link small', onclick: () => row.remove() }, 'Dismiss'));
  $('upload-list').append(row);
}

const UPLOAD_ERRORS = {
  400: 'invalid file name', 403: 'not allowed', 409: 'a file of that name belongs to another user',
  413: 'file too large', 507: 'over your storage quota',
};

export function uploadFiles(fileList) {
  for (const file of fileList) upload(file);
}

async function upload(file) {
  const limit = state.limits.file_bytes;
  if (limit && file.size > limit) {
    showUploadError(file.name, `Too large (${formatSize(file.size)}; limit ${formatSize(limit)})`);
    return;
  }
  const bar = h('progress', { max: '100', value: '0' });
  const label = h('span', { class: 'small muted' }, '0 %');
  const transfer = api.uploadFile(file, file.name, (loaded, total) => {
    const pct = total ? Math.floor((loaded / total) * 100) : 0;
    bar.value = pct;
    label.textContent = `${pct} %`;
  });
  const row = h('li', { class: 'upload' }, h('span', { class: 'upload-name' }, file.name), bar, label,
    h('button', { type: 'button', class: 'link small', onclick: () => transfer.abort() }, 'Cancel'));
  $('upload-list').append(row);
  const result = await transfer.done;
  row.remove();
  if (result.ok) {
    if (result.data?.name) state.files.set(result.data.name, result.data);
    renderFiles();
  } else if (!result.aborted) {
    const why = result.status ? (UPLOAD_ERRORS[result.status] || api.errorMessage(result)) : 'server unreachable';
    showUploadError(file.name, `Upload failed: ${why}`);
  }
}

/** File picker and drag and drop anywhere on the page (a drop outside would navigate away). */
export function initFiles() {
  const input = $('file-input');
  input.addEventListener('change', () => {
    uploadFiles([...input.files]);
    input.value = '';
  });
  const panel = $('files-panel');
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  document.addEventListener('dragenter', (e) => { if (hasFiles(e)) { depth++; panel.classList.add('dragging'); } });
  document.addEventListener('dragleave', (e) => { if (hasFiles(e) && --depth <= 0) { depth = 0; panel.classList.remove('dragging'); } });
  document.addEventListener('dragover', (e) => { if (hasFiles(e)) { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; } });
  document.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    panel.classList.remove('dragging');
    if (state.me && !$('app-view').hidden) uploadFiles([...e.dataTransfer.files]);
  });
}
