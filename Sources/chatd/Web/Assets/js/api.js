// The HTTP API (PROTOCOL.md §3). The browser authenticates with the HttpOnly `chat_session`
// cookie only: the token in the login answer is deliberately ignored, never stored in JS.
// fetch/XHR add the `Origin` header to same-origin POST/PUT/DELETE, which the CSRF check wants.

async function request(method, path, body) {
  const options = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  return { status: response.status, ok: response.ok, data, headers: response.headers };
}

/** The server's error message from `{"error": {"code", "message"}}`, or a fallback. */
export function errorMessage(result, fallback) {
  return result?.data?.error?.message || fallback || `HTTP ${result?.status}`;
}

/** `register: false` unless the user asked for a new account (PROTOCOL.md §7.7): a mistyped name
 *  then fails with `no_account` instead of quietly becoming an account. */
export const login = (username, password, register = false) => request('POST', '/api/login', { username, password, register });
export const errorCode = (result) => result?.data?.error?.code || null;
export const logout = () => request('POST', '/api/logout');
export const me = () => request('GET', '/api/me');
export const listFiles = () => request('GET', '/api/files');

/** One URL path segment per name, so `/`, `%`, `?`, `#` and non-ASCII stay part of the name. */
export const fileUrl = (name) => `/api/files/${encodeURIComponent(name)}`;
export const deleteFile = (name) => request('DELETE', fileUrl(name));

/** PUT with the raw File as the body, so it streams; XHR because fetch has no upload progress. */
export function uploadFile(file, name, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve) => {
    xhr.open('PUT', fileUrl(name));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      resolve({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, data });
    };
    xhr.onerror = () => resolve({ status: 0, ok: false, data: null });
    xhr.onabort = () => resolve({ status: 0, ok: false, data: null, aborted: true });
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
