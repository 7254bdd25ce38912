// The open room's messages, as one source of truth for the history and the thread panel.
//
// Messages are keyed by `id`, so whatever path a message arrives by (the history page, a
// live frame, a replay after `since_seq`, an `ack`, a refetch) it is shown once. Messages
// being sent are kept apart by `echo_id` until the server's copy (an `ack`, or a frame
// carrying the same `echo_id`) replaces them.

/**
 * @typedef {object} Pending
 * @property {string} echo_id
 * @property {string} sender_id
 * @property {string} sender_name
 * @property {string} content
 * @property {string} created_at
 * @property {string|null} reply_to
 * @property {string[]} file_names
 * @property {boolean} failed
 * @property {string} [error]
 */

/** Messages of one room, with change events `message`, `page`, `pending`, `reply`. */
export class RoomStore extends EventTarget {
  /** @param {{user_id: string, user_name: string}} me */
  constructor(me) {
    super();
    this.me = me;
    /** @type {Map<string, any>} */
    this.messages = new Map();
    /** @type {Map<string, Pending>} */
    this.pending = new Map();
    /** The highest seq known without a gap from the history: the next `since_seq`. */
    this.highestSeq = 0;
    /** The lowest seq of the history pages loaded: the next `before_seq`. */
    this.oldestSeq = Infinity;
    /** The history shows messages from this seq on (0 once the first message is loaded). */
    this.windowStart = 0;
  }

  /**
   * Listens to a change; answers a function that stops listening.
   * @param {'message'|'page'|'pending'|'reply'} type
   * @param {(detail: any) => void} fn
   */
  on(type, fn) {
    const listener = (event) => fn(event.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** A message by id. */
  get(id) {
    return this.messages.get(id);
  }

  /** True when the history shows (or would show) the message with this seq. */
  inWindow(seq) {
    return seq >= this.windowStart;
  }

  /** The newest message that is not deleted, or undefined. */
  newest() {
    let newest;
    for (const m of this.messages.values()) {
      if (!m.is_deleted && this.inWindow(m.seq) && (!newest || m.seq > newest.seq)) newest = m;
    }
    return newest;
  }

  /**
   * Adds a page of the history (newest first or not), as one `page` event.
   * @param {any[]} messages
   * @param {{older: boolean, hasMore: boolean}} how older: a page before the loaded ones
   */
  addPage(messages, { older, hasMore }) {
    const settled = [];
    for (const m of messages) {
      this.highestSeq = Math.max(this.highestSeq, m.seq);
      this.oldestSeq = Math.min(this.oldestSeq, m.seq);
      this.messages.set(m.id, m);
      const echoId = this.#settle(m);
      if (echoId) settled.push(echoId);
    }
    if (older || this.windowStart === 0) this.windowStart = hasMore ? this.oldestSeq : 0;
    this.#emit('page', { messages, settled, older });
  }

  /** Keeps messages read outside the history (a thread, a quote) without showing them. */
  remember(messages) {
    for (const m of messages) {
      if (!this.messages.has(m.id)) this.messages.set(m.id, m);
    }
  }

  /**
   * Adds or replaces a message (the server's copy is the truth).
   * @param {any} message ChatAPI message
   * @param {{live?: boolean, advance?: boolean}} [how] live: it came on the socket (new, or
   *   a change); advance: a `message` frame, which come in seq order without gaps, so its
   *   seq is the new `since_seq` (an `ack` may overtake a frame still queued: it is not)
   * @returns {boolean} whether it is new to this store
   */
  upsert(message, { live = false, advance = false } = {}) {
    if (advance) this.highestSeq = Math.max(this.highestSeq, message.seq);
    const previous = this.messages.get(message.id);
    if (!previous && message.is_deleted) return false; // never shown: nothing to say
    this.messages.set(message.id, message);
    const echoId = this.#settle(message);
    this.#emit('message', { message, previous, echoId });
    if (live) this.#countReply(message, previous);
    return !previous;
  }

  /** The pending message this one is the server's copy of, removed; its echo_id or null. */
  #settle(message) {
    const echoId = message.echo_id;
    if (!echoId || message.sender_id !== this.me.user_id || !this.pending.has(echoId)) return null;
    this.pending.delete(echoId);
    return echoId;
  }

  // Keeps the parent's `reply_count` right while the thread grows (the server sends no
  // event for the parent), then says so; the room asks the server for the exact count.
  #countReply(message, previous) {
    const parent = message.reply_to && this.messages.get(message.reply_to);
    if (!message.reply_to) return;
    let change = 0;
    if (!previous && !message.is_deleted) change = 1;
    else if (previous && !previous.is_deleted && message.is_deleted) change = -1;
    else if (previous && previous.is_deleted && !message.is_deleted) change = 1;
    if (parent && change) {
      this.setReplyCount(parent.id, Math.max(0, (parent.reply_count ?? 0) + change));
    }
    if (change) this.#emit('reply', { parentId: message.reply_to, reply: message });
  }

  /** Sets a message's reply count (from the thread summary). */
  setReplyCount(messageId, count) {
    const message = this.messages.get(messageId);
    if (!message || message.reply_count === count) return;
    const updated = { ...message, reply_count: count };
    this.messages.set(messageId, updated);
    this.#emit('message', { message: updated, previous: message, echoId: null });
  }

  /**
   * Sets whether `userId` reacted with `emoji` (idempotent: frames and answers may repeat).
   * @returns {boolean} whether anything changed
   */
  setReaction(messageId, emoji, userId, reacted) {
    const message = this.messages.get(messageId);
    if (!message) return false;
    const reactions = (message.reactions ?? []).map((r) => ({ ...r, user_ids: [...r.user_ids] }));
    let entry = reactions.find((r) => r.emoji === emoji);
    const has = Boolean(entry?.user_ids.includes(userId));
    if (has === reacted) return false;
    if (reacted) {
      if (!entry) reactions.push((entry = { emoji, count: 0, user_ids: [] }));
      entry.user_ids.push(userId);
    } else {
      entry.user_ids = entry.user_ids.filter((id) => id !== userId);
    }
    entry.count = entry.user_ids.length;
    const updated = { ...message, reactions: reactions.filter((r) => r.count > 0) };
    this.messages.set(messageId, updated);
    this.#emit('message', { message: updated, previous: message, echoId: null });
    return true;
  }

  /**
   * Adds a message being sent.
   * @param {{echoId: string, content: string, replyTo?: string|null, fileNames?: string[]}} draft
   * @returns {Pending}
   */
  addPending({ echoId, content, replyTo = null, fileNames = [] }) {
    const pending = {
      echo_id: echoId,
      sender_id: this.me.user_id,
      sender_name: this.me.user_name,
      content,
      created_at: new Date().toISOString(),
      reply_to: replyTo,
      file_names: fileNames,
      failed: false,
    };
    this.pending.set(echoId, pending);
    this.#emit('pending', { pending });
    return pending;
  }

  /** Marks a message being sent as failed (or, with `failed` false, as being retried). */
  setPendingFailed(echoId, failed, error = '') {
    const pending = this.pending.get(echoId);
    if (!pending) return;
    pending.failed = failed;
    pending.error = error;
    this.#emit('pending', { pending });
  }

  /** The messages of a thread held here, oldest first. */
  repliesTo(parentId) {
    return [...this.messages.values()]
      .filter((m) => m.reply_to === parentId && !m.is_deleted)
      .sort((a, b) => a.seq - b.seq);
  }
}
