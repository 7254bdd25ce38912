// Everything the user sends to the open room: messages (socket, with echo_id), files
// (multipart over HTTP), reactions (HTTP), and the retries of each.

import { ApiError } from './api.js';

const UPLOAD_SETTLE_MS = 4000;

/**
 * A new echo_id. `crypto.randomUUID` exists only in secure contexts (https, localhost);
 * elsewhere a v4 UUID is made from `crypto.getRandomValues`.
 * @returns {string}
 */
export function newEchoId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The sends of one room view. */
export class RoomSends {
  /** @param {import('./room.js').RoomView} view */
  constructor(view) {
    this.view = view;
    /** echo_id → the message frame, until acknowledged */
    this.frames = new Map();
    /** echo_id → {files, content}, until the message arrives */
    this.uploads = new Map();
    this.uploading = 0;
    this.replyTimers = new Map();
  }

  /**
   * Shows the message as pending at once and sends it over the socket (queued while the
   * socket is down, and re-sent with the same echo_id after each reconnect until acked).
   */
  sendText(content, replyTo, mentions) {
    const echoId = newEchoId();
    const data = { content, echo_id: echoId };
    if (replyTo) data.reply_to = replyTo;
    if (mentions.length) data.meta = { mentions };
    const frame = { type: 'message', data };
    this.frames.set(echoId, frame);
    this.view.store.addPending({ echoId, content, replyTo });
    this.view.socket.sendReliable(echoId, frame);
  }

  /** Forgets the sends of the room being closed. */
  reset() {
    this.frames.clear();
    this.uploads.clear();
    for (const timer of this.replyTimers.values()) clearTimeout(timer);
    this.replyTimers.clear();
  }

  /** The server acknowledged a message frame. */
  acked(echoId) {
    this.frames.delete(echoId);
  }

  /** Sends a failed message again, with the same echo_id (never stored twice). */
  retry(echoId) {
    const { store, socket } = this.view;
    store.setPendingFailed(echoId, false);
    if (this.frames.has(echoId)) socket.sendReliable(echoId, this.frames.get(echoId));
    else if (this.uploads.has(echoId)) this.#runUpload(echoId);
  }

  /** Gives up a failed message. */
  discard(echoId) {
    this.frames.delete(echoId);
    this.uploads.delete(echoId);
    this.view.socket?.forget(echoId);
    this.view.store.pending.delete(echoId);
    this.view.history.removePending(echoId);
    this.view.thread.removePending(echoId);
  }

  /**
   * Uploads files (with the text, possibly empty) as one message. The account dialect takes
   * multipart bodies; the stored message then arrives on the room socket with our echo_id.
   * @param {File[]} files
   * @param {string} content
   */
  upload(files, content) {
    const echoId = newEchoId();
    this.uploads.set(echoId, { files, content });
    this.view.store.addPending({ echoId, content, fileNames: files.map((f) => f.name) });
    this.#runUpload(echoId);
  }

  async #runUpload(echoId) {
    const { api, me, room, composer, store } = this.view;
    const { files, content } = this.uploads.get(echoId);
    this.uploading += 1;
    composer.setProgress(0);
    try {
      await api.upload({ accountId: me.account_id, roomIntId: room.id, content, echoId, files }, (p) => composer.setProgress(p));
      // Normally the room socket has brought it by now; if it is down, read it over HTTP.
      setTimeout(() => this.#settleUpload(echoId, store), UPLOAD_SETTLE_MS);
    } catch (error) {
      store.setPendingFailed(echoId, true, error instanceof ApiError ? error.message : 'upload failed');
    } finally {
      this.uploading -= 1;
      if (this.uploading === 0) composer.setProgress(null);
    }
  }

  async #settleUpload(echoId, store) {
    if (store !== this.view.store || !store.pending.has(echoId)) return;
    try {
      const page = await this.view.api.messages(this.view.room.uuid, { limit: 20 });
      for (const m of page.messages) this.nameAttachments(m);
      store.addPage(page.messages, { older: false, hasMore: page.hasMore });
    } catch {
      // the socket's replay will bring it
    }
  }

  /** Gives the attachments of one of my uploads their file names (for alt text). */
  nameAttachments(message) {
    const upload = message.echo_id && this.uploads.get(message.echo_id);
    if (!upload || message.sender_id !== this.view.me.user_id) return;
    (message.attachments ?? []).forEach((a, i) => {
      a.name = upload.files[i]?.name;
    });
    this.uploads.delete(message.echo_id);
  }

  /**
   * Sets my reaction: shown at once, undone if the server refuses.
   * @param {string} messageId
   * @param {string} emoji
   * @param {boolean} reacted
   */
  async react(messageId, emoji, reacted) {
    const { store, api, me, notice } = this.view;
    if (!messageId) return;
    store.setReaction(messageId, emoji, me.user_id, reacted);
    try {
      // The answer is the message as it was then; live reaction frames keep it current.
      if (reacted) await api.addReaction(messageId, emoji);
      else await api.removeReaction(messageId, emoji);
    } catch (error) {
      if (store === this.view.store) store.setReaction(messageId, emoji, me.user_id, !reacted);
      notice.show(`Could not ${reacted ? 'add' : 'remove'} the reaction: ${error.message}`);
    }
  }

  /** Asks the server for a thread's exact reply count (debounced per message). */
  refreshReplyCount(parentId) {
    clearTimeout(this.replyTimers.get(parentId));
    const store = this.view.store;
    this.replyTimers.set(parentId, setTimeout(async () => {
      this.replyTimers.delete(parentId);
      if (store !== this.view.store || !store.get(parentId)) return;
      try {
        const summary = await this.view.api.threadSummary(parentId);
        store.setReplyCount(parentId, summary.reply_count);
      } catch {
        // the local count stands
      }
    }, 500));
  }
}
