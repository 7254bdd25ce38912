// The thread panel (`aside#thread`): a message and its direct replies
// (`GET /messages/{id}/thread`, oldest first). Replies written here are ordinary room
// messages sent with `reply_to`, so they go through the same socket, pending state and
// acks as the main composer, and show in the room's history too.

import { MessageList } from './history.js';
import { renderMessage, patchMessage } from './message.js';
import { bindMessageActions, closeAllPickers } from './actions.js';
import { Composer } from './composer.js';

/** The thread panel of the open room. */
export class ThreadPanel {
  /**
   * @param {object} deps
   * @param {Record<string, HTMLElement>} deps.ui
   * @param {import('./status.js').Notice} deps.notice
   * @param {(open: boolean) => void} deps.onToggle the layout changes
   */
  constructor({ ui, notice, onToggle }) {
    this.ui = ui;
    this.notice = notice;
    this.onToggle = onToggle;
    this.view = null;
    this.parentId = null;
    this.offs = [];
    this.composer = new Composer({
      form: ui.threadComposer,
      input: ui.threadInput,
      onSend: (text) => this.view?.send(text, this.parentId),
      onTyped: () => this.view?.typingOut?.typed(),
      onStopTyping: () => this.view?.typingOut?.stop(),
      onError: (message) => notice.show(message),
    });
    ui.closeThread.addEventListener('click', () => this.close());
    ui.thread.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !event.target.closest('.emoji-picker')) this.close();
    });
    const actions = {
      react: (id, emoji, reacted) => this.view?.sends.react(id, emoji, reacted),
      retry: (echoId) => this.view?.sends.retry(echoId),
      discard: (echoId) => this.view?.sends.discard(echoId),
    };
    bindMessageActions(ui.threadParent, actions);
    bindMessageActions(ui.threadMessages, actions);
  }

  /** Follows a newly opened room. */
  attach(view) {
    this.detach();
    this.view = view;
    this.list = new MessageList({ list: this.ui.threadMessages, scroller: this.ui.threadMessages, ctx: view.ctx('thread'), separators: false });
    this.composer.setEnabled(view.maySend());
    const { store } = view;
    this.offs = [
      store.on('message', ({ message, echoId }) => this.#onMessage(message, echoId)),
      store.on('page', ({ messages, settled }) => {
        for (const echoId of settled) this.list.findPending(echoId)?.remove();
        for (const m of messages) this.#onMessage(m, null);
      }),
      store.on('pending', ({ pending }) => {
        if (this.parentId && pending.reply_to === this.parentId) this.list.showPending(pending);
      }),
    ];
  }

  /** Stops following the room (it was closed). */
  detach() {
    this.offs.forEach((off) => off());
    this.offs = [];
    this.close();
    this.view = null;
  }

  /** True when a thread is shown. */
  get isOpen() {
    return this.parentId !== null;
  }

  /**
   * Opens the thread of a message.
   * @param {string} parentId
   */
  async open(parentId) {
    const view = this.view;
    if (!view) return;
    closeAllPickers();
    this.parentId = parentId;
    this.ui.threadParent.replaceChildren();
    this.list.clear();
    this.ui.thread.hidden = false;
    this.onToggle(true);
    const [parent, replies] = await Promise.all([
      view.resolveMessage(parentId),
      view.api.thread(parentId).catch((error) => {
        this.notice.show(`Could not load the thread: ${error.message}`);
        return [];
      }),
    ]);
    if (this.parentId !== parentId || this.view !== view) return;
    if (parent) this.ui.threadParent.replaceChildren(renderMessage(parent, view.ctx('parent')));
    view.store.remember(replies);
    const known = new Map(replies.map((m) => [m.id, view.store.get(m.id) ?? m]));
    for (const m of view.store.repliesTo(parentId)) known.set(m.id, m);
    this.list.showMany([...known.values()]);
    for (const pending of view.store.pending.values()) {
      if (pending.reply_to === parentId) this.list.showPending(pending);
    }
    this.list.scrollToBottom();
    this.composer.focus();
  }

  /** Closes the panel. */
  close() {
    if (this.parentId === null && this.ui.thread.hidden) return;
    const returnTo = this.parentId && this.view?.history?.find(this.parentId)?.querySelector('.action-thread');
    const hadFocus = this.ui.thread.contains(document.activeElement);
    this.parentId = null;
    this.ui.thread.hidden = true;
    this.composer.reset();
    this.onToggle(false);
    if (hadFocus) returnTo?.focus();
  }

  /** Sets the ticks of my replies from the receipts. */
  refreshTicks() {
    this.list?.refreshTicks();
  }

  /** Removes a discarded pending reply. */
  removePending(echoId) {
    this.list?.removePending(echoId);
  }

  #onMessage(message, echoId) {
    if (!this.parentId) return;
    if (message.id === this.parentId) {
      const shown = this.ui.threadParent.querySelector('li.message');
      if (shown && !message.is_deleted) patchMessage(shown, message, this.view.ctx('parent'));
      else this.ui.threadParent.replaceChildren(renderMessage(message, this.view.ctx('parent')));
    } else if (message.reply_to === this.parentId) {
      if (message.is_deleted && !this.list.find(message.id)) return;
      this.list.show(message, echoId);
    }
  }
}
