// The WebSocket connection (PROTOCOL.md §2) with automatic reconnection. The cookie
// authenticates the upgrade; the browser sends our own Origin, which the server checks.

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;

export class Connection {
  /**
   * onFrame(frame): every parsed server frame.
   * onStatus(state, detail): 'connecting' | 'online' | 'waiting' (detail = ms) | 'stopped'.
   * shouldRetry(): async, false when the session is gone (the caller shows the login).
   */
  constructor({ onFrame, onStatus, shouldRetry }) {
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.shouldRetry = shouldRetry;
    this.ws = null;
    this.ready = false;      // true between `welcome` and close
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  /** Reconnects at once (user clicked the status, or the browser came back online). */
  retryNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.open();
  }

  open() {
    this.timer = null;
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const ws = new WebSocket(`${scheme}${location.host}/ws`);
    this.ws = ws;
    this.ready = false;
    this.onStatus('connecting');
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === 'welcome') {
        this.ready = true;
        this.attempt = 0;      // a session that got as far as welcome resets the backoff
        this.onStatus('online');
      }
      this.onFrame(frame);
    };
    ws.onclose = () => this.closed(ws);
  }

  async closed(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.ready = false;
    if (this.stopped) return;
    this.onStatus('connecting');
    // A refused upgrade looks like any other close: ask the API whether we are still signed in.
    const retry = await this.shouldRetry();
    if (this.stopped) return;
    if (!retry) { this.stop(); return; }
    // Exponential backoff with jitter, so that many browsers do not reconnect in lockstep
    // after a restart.
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** this.attempt);
    this.attempt++;
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.onStatus('waiting', delay);
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** Sends a frame when the session is ready; false otherwise (the caller tells the user). */
  send(frame) {
    if (!this.ws || !this.ready || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) ws.close(1000);
    this.onStatus('stopped');
  }
}
