// A list of messages on screen (`ol#messages`, and the thread panel's list).
//
// Messages are kept in seq order (pending ones last), each once (by id; pending ones by
// echo_id). After every change the list is laid out again in one pass: day separators
// where the day changes, and follow-ups from the same sender within 5 minutes grouped.

import { el } from './render.js';
import { dayLabel } from './render.js';
import { renderMessage, renderPending, patchMessage, patchPending, patchTicks } from './message.js';

const GROUP_WITHIN_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 80;

/** The messages of one list, in order, with grouping and (optionally) day separators. */
export class MessageList {
  /**
   * @param {object} options
   * @param {HTMLOListElement} options.list
   * @param {HTMLElement} options.scroller the element that scrolls
   * @param {import('./message.js').RenderContext} options.ctx
   * @param {boolean} [options.separators] day separators (the main history)
   */
  constructor({ list, scroller, ctx, separators = true }) {
    this.list = list;
    this.scroller = scroller;
    this.ctx = ctx;
    this.separators = separators;
    // A role="log" list is no longer a list to assistive technology, so its items are
    // plain containers (role="none") rather than orphaned list items.
    this.itemRole = list.getAttribute('role') === 'log' ? 'none' : null;
  }

  #render(li) {
    if (this.itemRole) li.setAttribute('role', this.itemRole);
    return li;
  }

  /** Empties the list. */
  clear() {
    this.list.replaceChildren();
  }

  /** The `li` of a stored message, if shown. */
  find(id) {
    return this.list.querySelector(`li.message[data-id="${CSS.escape(id)}"]`);
  }

  /** The `li` of a pending message, if shown. */
  findPending(echoId) {
    return this.list.querySelector(`li.message[data-echo-id="${CSS.escape(echoId)}"]`);
  }

  /**
   * Shows a stored message: updates it in place if shown, replaces its pending copy, or
   * inserts it at its seq.
   * @param {any} message
   * @param {string|null} [echoId] the pending message it settles
   */
  show(message, echoId = null) {
    const stick = this.isNearBottom();
    this.#place(message, echoId);
    this.layout();
    if (stick) this.scrollToBottom();
  }

  /** Shows a page of messages at once (any order), keeping the reader's place. */
  showMany(messages, { keepPosition = false } = {}) {
    const before = this.scroller.scrollHeight - this.scroller.scrollTop;
    for (const message of messages) this.#place(message, null);
    this.layout();
    if (keepPosition) this.scroller.scrollTop = this.scroller.scrollHeight - before;
  }

  #place(message, echoId) {
    const existing = this.find(message.id);
    if (existing) {
      if (existing.classList.contains('deleted') !== Boolean(message.is_deleted)) {
        existing.replaceWith(this.#render(renderMessage(message, this.ctx)));
      } else {
        patchMessage(existing, message, this.ctx);
      }
      echoId && this.findPending(echoId)?.remove();
      return;
    }
    const li = this.#render(renderMessage(message, this.ctx));
    const pending = echoId && this.findPending(echoId);
    if (pending) pending.remove();
    this.#insertBySeq(li, message.seq);
  }

  #insertBySeq(li, seq) {
    let before = null;
    for (let node = this.list.lastElementChild; node; node = node.previousElementSibling) {
      if (node.classList.contains('day-separator')) continue;
      if (node.dataset.pending === 'true' || Number(node.dataset.seq) > seq) {
        before = node;
        continue;
      }
      break;
    }
    if (before?.previousElementSibling?.classList.contains('day-separator')) before = before.previousElementSibling;
    this.list.insertBefore(li, before);
  }

  /** Shows or updates a message being sent, at the end. */
  showPending(pending) {
    const existing = this.findPending(pending.echo_id);
    if (existing) {
      patchPending(existing, pending);
      return;
    }
    this.list.append(this.#render(renderPending(pending, this.ctx)));
    this.layout();
    this.scrollToBottom();
  }

  /** Removes a pending message (discarded). */
  removePending(echoId) {
    this.findPending(echoId)?.remove();
    this.layout();
  }

  /** Sets the ticks of every message of mine from the current receipts. */
  refreshTicks() {
    for (const li of this.list.querySelectorAll('li.message[data-own="true"][data-seq]')) {
      patchTicks(li, this.ctx.tickStatus(Number(li.dataset.seq)));
    }
  }

  /** Day separators and grouping, in one pass over the list. */
  layout() {
    let previous = null;
    for (const li of this.list.querySelectorAll(':scope > li.message')) {
      const newDay = !previous || previous.dataset.day !== li.dataset.day;
      if (this.separators && newDay) this.#ensureSeparator(li);
      const grouped = !newDay && follows(previous, li);
      li.classList.toggle('grouped', grouped);
      const sender = li.querySelector('.sender');
      if (sender) sender.hidden = grouped;
      previous = li;
    }
    if (this.separators) this.#dropStaleSeparators();
  }

  #ensureSeparator(li) {
    const before = li.previousElementSibling;
    if (before?.classList.contains('day-separator') && before.dataset.day === li.dataset.day) {
      before.textContent = dayLabel(li.dataset.day);
      return;
    }
    const separator = el('li.day-separator', { role: 'separator', dataset: { day: li.dataset.day } });
    separator.textContent = dayLabel(li.dataset.day);
    this.list.insertBefore(separator, li);
  }

  #dropStaleSeparators() {
    for (const separator of this.list.querySelectorAll(':scope > li.day-separator')) {
      const next = separator.nextElementSibling;
      let previous = separator.previousElementSibling;
      while (previous && !previous.classList.contains('message')) previous = previous.previousElementSibling;
      const stale = !next || !next.classList.contains('message') || next.dataset.day !== separator.dataset.day
        || (previous && previous.dataset.day === separator.dataset.day);
      if (stale) separator.remove();
    }
  }

  /** True when the reader is at (or near) the newest message. */
  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  /** Scrolls to the newest message. */
  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** The seq of the newest stored message shown (0 if none). */
  newestSeq() {
    const shown = this.list.querySelectorAll(':scope > li.message[data-seq]');
    return shown.length ? Number(shown[shown.length - 1].dataset.seq) : 0;
  }
}

// A follow-up: same sender, within 5 minutes, neither a system message nor deleted.
function follows(previous, li) {
  if (previous.dataset.senderId !== li.dataset.senderId) return false;
  if (previous.classList.contains('system') || li.classList.contains('system')) return false;
  if (previous.classList.contains('deleted') || li.classList.contains('deleted')) return false;
  return Number(li.dataset.time) - Number(previous.dataset.time) < GROUP_WITHIN_MS;
}
