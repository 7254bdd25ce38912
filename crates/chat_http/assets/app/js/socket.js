// A WebSocket that stays connected.
//
// - Reconnects after any close except the final ones (4001 credential refused or ended,
//   4002 room not found or deleted, 4003 access denied), with exponential backoff
//   0.5 s, 1 s, 2 s, 4 s, 8 s (capped), each with ±25 % jitter so that many clients do not
//   come back at the same instant after a server restart.
// - Sends `{"type":"ping"}` every 20 s and treats 45 s without any frame as a dead
//   connection (a network that vanished does not always close the socket).
// - `url` is a function called for every attempt, so a room socket can ask for
//   `since_seq=<highest seq seen>` each time and get exactly what it missed.
// - Messages sent with `sendReliable` stay in an outbox until the server's `ack` names their
//   `echo_id`; they are sent again, unchanged, after every reconnect. The server stores one
//   message per (sender, room, echo_id), so a retry never duplicates.

const PING_EVERY_MS = 20_000;
const DEAD_AFTER_MS = 45_000;
const WATCH_EVERY_MS = 5_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 8_000;
/** Close codes after which reconnecting with the same credential cannot help. */
const FINAL_CODES = new Set([4001, 4002, 4003]);
/** `error` frame codes worth retrying the same send for. */
const TRANSIENT_ERRORS = new Set(['rate_limited', 'unavailable']);
/** `error` frame codes that refuse a `message` frame for good. */
const SEND_ERRORS = new Set(['conflict', 'forbidden', 'invalid_data', 'not_found', 'server_error', 'unauthorized']);

/**
 * The delay before reconnect attempt `attempt` (0 = first), with jitter.
 * @param {number} attempt
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  const jittered = base * (0.75 + Math.random() * 0.5);
  return Math.min(BACKOFF_MAX_MS, Math.round(jittered));
}

/**
 * @typedef {'idle'|'connecting'|'open'|'reconnecting'|'closed'} SocketState
 * @typedef {object} LiveSocketOptions
 * @property {() => string} url the URL for the next attempt
 * @property {(frame: any) => void} onFrame every frame received (acks included)
 * @property {(state: SocketState) => void} [onState]
 * @property {(info: {reconnected: boolean}) => void} [onReady] after `connection_status`
 * @property {(code: number, reason: string) => void} [onFinal] closed for good (4001/4002/4003)
 * @property {(echoId: string, error: {code: string, message: string}) => void} [onSendFailed]
 */

/** A reconnecting JSON WebSocket with keep-alive and an acknowledged outbox. */
export class LiveSocket {
  /** @param {LiveSocketOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {SocketState} */
    this.state = 'idle';
    this.ws = null;
    this.attempt = 0;
    this.everReady = false;
    this.lastHeard = 0;
    /** echo_id → frame, in the order they were queued. @type {Map<string, object>} */
    this.outbox = new Map();
    /** echo_ids sent on the current connection and not answered yet, oldest first. */
    this.inFlight = [];
    this.timers = { retry: 0, ping: 0, watch: 0, resend: 0 };
    this.onOnline = () => this.state === 'reconnecting' && this.#reconnectNow();
  }

  /** Opens the socket (and keeps it open until `stop`). */
  start() {
    if (this.state !== 'idle') return;
    window.addEventListener('online', this.onOnline);
    this.timers.watch = setInterval(() => this.#watch(), WATCH_EVERY_MS);
    this.#connect('connecting');
  }

  /** Closes the socket for good. */
  stop() {
    this.#setState('closed');
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.resend);
    clearInterval(this.timers.ping);
    clearInterval(this.timers.watch);
    this.#drop(1000, 'closed by the client');
  }

  /** True when frames can be sent now. */
  get isOpen() {
    return this.state === 'open';
  }

  /**
   * Sends a frame now if the socket is open; dropped otherwise (typing, read, ping).
   * @param {object} frame
   * @returns {boolean} whether it was sent
   */
  send(frame) {
    if (!this.isOpen || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a `message` frame and keeps it until acknowledged (re-sent after reconnects).
   * @param {string} echoId the frame's `data.echo_id`
   * @param {object} frame
   */
  sendReliable(echoId, frame) {
    this.outbox.set(echoId, frame);
    if (this.isOpen) this.#transmit(echoId);
  }

  /** Forgets a queued message (given up by the user). */
  forget(echoId) {
    this.outbox.delete(echoId);
    this.inFlight = this.inFlight.filter((id) => id !== echoId);
  }

  #connect(state) {
    this.#setState(state);
    this.lastHeard = Date.now();
    let ws;
    try {
      ws = new WebSocket(this.options.url());
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => this.#closed(ws, event.code, event.reason);
    ws.onerror = () => {}; // a close follows; its code says what happened
  }

  #receive(text) {
    this.lastHeard = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === 'connection_status') this.#ready();
    else if (frame.type === 'ack') this.#acked(frame.data?.echo_id);
    else if (frame.type === 'error') this.#refused(frame.data ?? {});
    this.options.onFrame(frame);
  }

  #ready() {
    const reconnected = this.everReady;
    this.everReady = true;
    this.attempt = 0;
    this.#setState('open');
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => this.send({ type: 'ping' }), PING_EVERY_MS);
    this.inFlight = [];
    for (const echoId of this.outbox.keys()) this.#transmit(echoId);
    this.options.onReady?.({ reconnected });
  }

  #transmit(echoId) {
    const frame = this.outbox.get(echoId);
    if (frame && this.send(frame) && !this.inFlight.includes(echoId)) this.inFlight.push(echoId);
  }

  #acked(echoId) {
    if (!echoId) return;
    this.outbox.delete(echoId);
    this.inFlight = this.inFlight.filter((id) => id !== echoId);
  }

  // An `error` frame does not name the frame it refuses. Frames are answered in order, so
  // while a message is waiting for its ack, a refusal that fits a message is taken to be
  // its: transient ones are retried with the same echo_id (harmless if it was stored after
  // all), the others fail the oldest message waiting.
  #refused({ code, message }) {
    if (this.inFlight.length === 0) return;
    if (TRANSIENT_ERRORS.has(code)) {
      clearTimeout(this.timers.resend);
      this.timers.resend = setTimeout(() => {
        for (const echoId of [...this.inFlight]) this.#transmit(echoId);
      }, 1500);
    } else if (SEND_ERRORS.has(code)) {
      const echoId = this.inFlight.shift();
      this.outbox.delete(echoId);
      this.options.onSendFailed?.(echoId, { code, message });
    }
  }

  #closed(ws, code, reason) {
    if (ws !== this.ws) return; // an older socket we already dropped
    this.ws = null;
    clearInterval(this.timers.ping);
    if (this.state === 'closed') return;
    if (FINAL_CODES.has(code)) {
      this.stop();
      this.options.onFinal?.(code, reason);
      return;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    this.#setState('reconnecting');
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.#connect('reconnecting'), backoffDelay(this.attempt));
    this.attempt += 1;
  }

  #reconnectNow() {
    this.attempt = 0;
    clearTimeout(this.timers.retry);
    this.#drop(4000, 'reconnecting');
    this.#connect('reconnecting');
  }

  // Silence for DEAD_AFTER_MS (no pong, no event) means the connection is gone even if the
  // browser has not noticed: drop it and reconnect.
  #watch() {
    if (!this.ws) return;
    if (Date.now() - this.lastHeard < DEAD_AFTER_MS) return;
    this.#drop(4000, 'no frame for 45 s');
    clearInterval(this.timers.ping);
    this.#scheduleReconnect();
  }

  #drop(code, reason) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = null;
    ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state);
  }
}
