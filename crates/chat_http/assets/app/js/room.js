// The open room, in the ChatAPI dialect: its history (keyset pages by `before_seq`), its
// members, receipts and ONE room socket `/ws/{uuid}?since_seq=<highest seq seen>`.
//
// Order matters when opening: the first page of history is read first, then the socket is
// opened with `since_seq` = the newest seq of that page, so the server replays whatever was
// sent in between and nothing is missed or shown twice. Every reconnect does the same with
// the highest seq received so far.

import { LiveSocket } from './socket.js';
import { RoomStore } from './store.js';
import { Receipts } from './receipts.js';
import { MessageList } from './history.js';
import { Members } from './members.js';
import { TypingIndicator, TypingSender } from './typing.js';
import { findMentions, mentionTokens } from './mentions.js';
import { handleRoomFrame } from './room-frames.js';
import { RoomSends } from './sends.js';

const READ_DEBOUNCE_MS = 300;
const RECEIPTS_AFTER_ACK_MS = 1500;
const REVEAL_MAX_PAGES = 20;

/** The room being shown, one at a time. */
export class RoomView {
  /**
   * @param {object} deps
   * @param {import('./api.js').Api} deps.api
   * @param {{user_id: string, user_name: string, account_id: number, permissions?: string[]}} deps.me
   * @param {Record<string, HTMLElement>} deps.ui
   * @param {import('./composer.js').Composer} deps.composer
   * @param {import('./thread.js').ThreadPanel} deps.thread
   * @param {import('./status.js').ConnectionStatus} deps.connection
   * @param {import('./status.js').Notice} deps.notice
   * @param {{onRead: (uuid: string) => void, onGone: (uuid: string) => void,
   *   onSessionEnded: () => void}} deps.hooks
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.members = new Members(deps.ui.members);
    this.typing = new TypingIndicator(deps.ui.typing);
    this.room = null;
    this.timers = { read: 0, receipts: 0 };
    this.generation = 0;
    this.readSent = 0;
    this.sends = new RoomSends(this);
    deps.ui.loadOlder.addEventListener('click', () => this.loadOlder());
    deps.ui.history.addEventListener('scroll', () => {
      if (deps.ui.history.scrollTop < 40) this.loadOlder();
    }, { passive: true });
    document.addEventListener('visibilitychange', () => this.markReadSoon());
  }

  /** The uuid of the open room, or null. */
  get uuid() {
    return this.room?.uuid ?? null;
  }

  /**
   * Opens a room (closing the one before).
   * @param {{id: number, uuid: string, name: string}} room account-dialect room
   */
  async open(room) {
    const unsent = this.store?.pending.size ?? 0;
    if (unsent) this.notice.show(`${unsent} unsent ${unsent === 1 ? 'message was' : 'messages were'} discarded.`);
    this.close();
    const generation = ++this.generation;
    this.room = room;
    this.#showShell(room);
    this.store = new RoomStore(this.me);
    this.lookups = new Map();
    this.receipts = new Receipts(this.me.user_id);
    this.history = new MessageList({ list: this.ui.messages, scroller: this.ui.history, ctx: this.ctx('history') });
    this.#subscribe();
    try {
      const [participants, page, receipts] = await Promise.all([
        this.api.participants(room.uuid),
        this.api.messages(room.uuid),
        this.api.receipts(room.uuid).catch(() => []),
      ]);
      if (generation !== this.generation) return;
      this.members.load(participants);
      this.receipts.load(receipts);
      this.store.addPage(page.messages, { older: false, hasMore: page.hasMore });
      this.ui.loadOlder.hidden = !page.hasMore;
      this.history.scrollToBottom();
    } catch (error) {
      if (generation !== this.generation) return;
      this.notice.show(`Could not open ${room.name}: ${error.message}`);
      this.close();
      this.#showEmpty();
      this.hooks.onGone(room.uuid);
      return;
    }
    this.thread.attach(this);
    this.#connect();
  }

  /** Closes the open room (socket, timers, lists). */
  close() {
    this.generation += 1;
    this.typingOut?.stop();
    this.typingOut = null;
    this.socket?.stop();
    this.socket = null;
    this.connection.set('room', 'closed');
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.thread.detach();
    this.sends.reset();
    clearTimeout(this.timers.read);
    clearTimeout(this.timers.receipts);
    this.typing.clear();
    this.members.clear();
    this.composer.reset();
    this.ui.messages.replaceChildren();
    this.readSent = 0;
    this.room = null;
    this.store = null;
  }

  #showShell(room) {
    this.ui.roomTitle.textContent = room.name;
    this.ui.roomEmpty.hidden = true;
    this.ui.history.hidden = false;
    this.ui.composer.hidden = false;
    this.ui.loadOlder.hidden = true;
    this.composer.setEnabled(this.maySend());
  }

  /** Whether the credential may send messages (`send_messages`). */
  maySend() {
    const permissions = this.me.permissions;
    return !Array.isArray(permissions) || permissions.includes('send_messages');
  }

  /**
   * What message rendering needs, for a place (`history`, `thread`, `parent`).
   * @returns {import('./message.js').RenderContext}
   */
  ctx(place) {
    return {
      self: this.me.user_id,
      place,
      nameOf: (id) => this.members.nameOf(id) ?? (id === this.me.user_id ? this.me.user_name : undefined),
      mentionTokensOf: (m) => mentionTokens(m.mentions, (id) => this.members.nameOf(id)),
      tickStatus: (seq) => this.receipts.status(seq),
      resolveQuote: (id) => this.resolveMessage(id),
    };
  }

  #subscribe() {
    const { store, history } = this;
    const offs = [
      store.on('page', ({ messages, settled, older }) => {
        for (const echoId of settled) history.findPending(echoId)?.remove();
        history.showMany(messages.filter((m) => !m.is_deleted), { keepPosition: older });
        this.markReadSoon();
      }),
      store.on('message', ({ message, echoId }) => {
        if (!store.inWindow(message.seq) && !history.find(message.id)) return;
        history.show(message, echoId);
        if (echoId) history.scrollToBottom();
        this.markReadSoon();
      }),
      store.on('pending', ({ pending }) => history.showPending(pending)),
      store.on('reply', ({ parentId }) => this.sends.refreshReplyCount(parentId)),
    ];
    const onReceipts = () => {
      this.history.refreshTicks();
      this.thread.refreshTicks();
    };
    this.receipts.addEventListener('change', onReceipts);
    this.unsubscribe = () => {
      offs.forEach((off) => off());
      this.receipts.removeEventListener('change', onReceipts);
    };
  }

  #connect() {
    const uuid = this.room.uuid;
    const store = this.store;
    this.socket = new LiveSocket({
      url: () => this.api.roomSocketUrl(uuid, store.highestSeq),
      onFrame: (frame) => handleRoomFrame(this, frame),
      onState: (state) => this.connection.set('room', state),
      onReady: ({ reconnected }) => this.#ready(reconnected),
      onFinal: (code) => this.#final(code),
      onSendFailed: (echoId, error) => store.setPendingFailed(echoId, true, error.message),
    });
    this.typingOut = new TypingSender((isTyping) => this.socket?.send({ type: 'typing', data: { is_typing: isTyping } }));
    this.socket.start();
  }

  // After a reconnect, what the replay does not cover is read again: receipts (delivered
  // positions have no event), members, and the newest page (edits, reactions, deletions
  // made while away).
  async #ready(reconnected) {
    this.readSent = 0;
    this.markReadSoon();
    if (!reconnected) return;
    const generation = this.generation;
    this.refreshReceipts(0);
    try {
      const [participants, page] = await Promise.all([this.api.participants(this.room.uuid), this.api.messages(this.room.uuid)]);
      if (generation !== this.generation) return;
      this.members.load(participants);
      this.store.addPage(page.messages, { older: false, hasMore: page.hasMore });
    } catch {
      // the next reconnect or event will try again
    }
  }

  #final(code) {
    const uuid = this.room?.uuid;
    if (code === 4001) {
      this.hooks.onSessionEnded();
      return;
    }
    const why = code === 4002 ? 'This room no longer exists.' : 'You are no longer a member of this room.';
    this.notice.show(why);
    this.close();
    this.#showEmpty();
    if (uuid) this.hooks.onGone(uuid);
  }

  #showEmpty() {
    this.ui.roomTitle.textContent = 'Choose a room';
    this.ui.roomEmpty.hidden = false;
    this.ui.history.hidden = true;
    this.ui.composer.hidden = true;
  }

  /** Re-reads every member's positions after `delay` ms (debounced). */
  refreshReceipts(delay = RECEIPTS_AFTER_ACK_MS) {
    clearTimeout(this.timers.receipts);
    const generation = this.generation;
    this.timers.receipts = setTimeout(async () => {
      try {
        const list = await this.api.receipts(this.room.uuid);
        if (generation === this.generation) this.receipts.load(list);
      } catch {
        // ticks stay as they are until the next try
      }
    }, delay);
  }

  /** Marks the newest message read soon, if the page is visible (debounced). */
  markReadSoon() {
    clearTimeout(this.timers.read);
    this.timers.read = setTimeout(() => this.#markRead(), READ_DEBOUNCE_MS);
  }

  #markRead() {
    if (!this.store || document.visibilityState !== 'visible') return;
    const newest = this.store.newest();
    if (!newest || newest.seq <= this.readSent) return;
    if (this.socket?.send({ type: 'read', data: { message_id: newest.id } })) {
      this.readSent = newest.seq;
      this.hooks.onRead(this.room.uuid);
    }
  }

  /**
   * Sends a message over the room socket (queued while it is down).
   * @param {string} content
   * @param {string|null} replyTo
   */
  send(content, replyTo = null) {
    if (!this.socket) return;
    const mentions = findMentions(content, this.members.all(), this.me.user_id);
    this.sends.sendText(content, replyTo, mentions);
    this.history.scrollToBottom();
  }

  /** Loads the page of history before the oldest message shown. */
  async loadOlder() {
    if (!this.store || this.loadingOlder || this.ui.loadOlder.hidden) return false;
    const { store, room } = this;
    this.loadingOlder = true;
    try {
      const page = await this.api.messages(room.uuid, { beforeSeq: store.oldestSeq });
      if (store !== this.store) return false;
      store.addPage(page.messages, { older: true, hasMore: page.hasMore });
      this.ui.loadOlder.hidden = !page.hasMore;
      return true;
    } catch (error) {
      this.notice.show(`Could not load older messages: ${error.message}`);
      return false;
    } finally {
      this.loadingOlder = false;
    }
  }

  /**
   * Scrolls to a message, loading older pages until it is there, and highlights it.
   * @param {string} messageId
   * @param {number} [seq] its seq, if known (to know how far back to go)
   */
  async reveal(messageId, seq) {
    for (let i = 0; this.store && !this.history.find(messageId) && i < REVEAL_MAX_PAGES; i += 1) {
      if (seq !== undefined && seq >= this.store.oldestSeq) break;
      if (!(await this.loadOlder())) break;
    }
    const li = this.history?.find(messageId);
    if (!li) return false;
    li.scrollIntoView({ block: 'center' });
    li.classList.add('highlight');
    li.tabIndex = -1;
    li.focus({ preventScroll: true });
    setTimeout(() => li.classList.remove('highlight'), 2500);
    return true;
  }

  /** A message of this room by id: from memory, else from the server (once per id). */
  resolveMessage(id) {
    const store = this.store;
    const known = store?.get(id);
    if (known) return Promise.resolve(known);
    if (!this.lookups.has(id)) {
      const lookup = this.api.message(id).then((message) => {
        store?.remember([message]);
        return message;
      }, () => null);
      this.lookups.set(id, lookup);
    }
    return this.lookups.get(id);
  }
}
