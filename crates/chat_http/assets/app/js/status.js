// `#connection` (one state for all the sockets) and `#notice` (passing messages).

const TEXT = { connecting: '', connected: 'Connected', reconnecting: 'Reconnecting…' };

/** Sums up the state of several sockets in `#connection` (role="status"). */
export class ConnectionStatus {
  /** @param {HTMLElement} node */
  constructor(node) {
    this.node = node;
    /** @type {Map<string, import('./socket.js').SocketState>} */
    this.sockets = new Map();
    this.#render();
  }

  /**
   * Records the state of one socket.
   * @param {string} name e.g. `stream`, `room`
   * @param {import('./socket.js').SocketState} state
   */
  set(name, state) {
    if (state === 'closed' || state === 'idle') this.sockets.delete(name);
    else this.sockets.set(name, state);
    this.#render();
  }

  /** Forgets every socket. */
  reset() {
    this.sockets.clear();
    this.#render();
  }

  // Any socket down → reconnecting; any still opening → connecting; else connected.
  #render() {
    const states = [...this.sockets.values()];
    let state = 'connected';
    if (states.includes('reconnecting')) state = 'reconnecting';
    else if (states.length === 0 || states.includes('connecting')) state = 'connecting';
    if (this.node.dataset.state === state) return;
    this.node.dataset.state = state;
    this.node.textContent = TEXT[state];
  }
}

/** Short messages in `#notice` (role="alert"), cleared after a while. */
export class Notice {
  /** @param {HTMLElement} node */
  constructor(node) {
    this.node = node;
    this.timer = 0;
  }

  /** Shows a message for `ms` milliseconds. */
  show(text, ms = 8000) {
    clearTimeout(this.timer);
    this.node.textContent = text;
    this.node.classList.add('visible');
    this.timer = setTimeout(() => this.hide(), ms);
  }

  /** Clears the message. */
  hide() {
    clearTimeout(this.timer);
    this.node.textContent = '';
    this.node.classList.remove('visible');
  }
}
