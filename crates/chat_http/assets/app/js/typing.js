// Typing, both ways.
//
// Out: `{type: "typing", data: {is_typing: true}}` at most every 3 s while keys are
// pressed; `false` after 4 s without a key, and right after sending.
// In: `typing {user_id, user_name, is_typing}` frames; an indicator that gets no new frame
// for 6 s expires (a `false` frame can be lost when the typist's connection drops).

const SEND_EVERY_MS = 3000;
const IDLE_AFTER_MS = 4000;
const EXPIRE_AFTER_MS = 6000;

/** Sends my typing state over a socket. */
export class TypingSender {
  /** @param {(isTyping: boolean) => void} send */
  constructor(send) {
    this.send = send;
    this.lastSent = 0;
    this.active = false;
    this.idle = 0;
  }

  /** Call on every keystroke that changes the text. */
  typed() {
    const now = Date.now();
    if (!this.active || now - this.lastSent >= SEND_EVERY_MS) {
      this.send(true);
      this.active = true;
      this.lastSent = now;
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_AFTER_MS);
  }

  /** Call after sending, or when the text is cleared. */
  stop() {
    clearTimeout(this.idle);
    if (!this.active) return;
    this.active = false;
    this.lastSent = 0;
    this.send(false);
  }
}

/** Shows who else is typing in `#typing` (aria-live="polite"). */
export class TypingIndicator {
  /** @param {HTMLElement} node */
  constructor(node) {
    this.node = node;
    /** user_id → {name, timer} */
    this.typists = new Map();
  }

  /** A `typing` frame. */
  update({ user_id: userId, user_name: userName, is_typing: isTyping }) {
    const key = String(userId);
    clearTimeout(this.typists.get(key)?.timer);
    if (isTyping) {
      const timer = setTimeout(() => this.remove(key), EXPIRE_AFTER_MS);
      this.typists.set(key, { name: userName || key, timer });
    } else {
      this.typists.delete(key);
    }
    this.#render();
  }

  /** Stops showing a typist (their message arrived, or they left). */
  remove(userId) {
    const key = String(userId);
    if (!this.typists.has(key)) return;
    clearTimeout(this.typists.get(key).timer);
    this.typists.delete(key);
    this.#render();
  }

  /** Forgets everyone (room closed). */
  clear() {
    for (const { timer } of this.typists.values()) clearTimeout(timer);
    this.typists.clear();
    this.#render();
  }

  #render() {
    this.node.textContent = typingText([...this.typists.values()].map((t) => t.name));
  }
}

/**
 * "Bob Byrne is typing…", "Ann Lee and Bob Byrne are typing…", "A, B and C are typing…".
 * @param {string[]} names
 */
export function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  const last = names[names.length - 1];
  return `${names.slice(0, -1).join(', ')} and ${last} are typing…`;
}
