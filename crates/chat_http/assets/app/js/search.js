// Message search (`GET /api/v1/messages/search?q=…`): every room the user belongs to, best
// match first. Each result names its room's uuid; choosing one opens that room and
// scrolls to the message.

import { el, shortWhen, snippet } from './render.js';

/** The search form and its results panel. */
export class Search {
  /**
   * @param {object} deps
   * @param {import('./api.js').Api} deps.api
   * @param {Record<string, HTMLElement>} deps.ui
   * @param {(uuid: string) => string|undefined} deps.roomName
   * @param {(roomId: string, messageId: string, seq: number) => void} deps.onChoose
   */
  constructor({ api, ui, roomName, onChoose }) {
    Object.assign(this, { api, ui, roomName, onChoose });
    this.generation = 0;
    ui.search.addEventListener('submit', (event) => {
      event.preventDefault();
      this.run(ui.searchInput.value);
    });
    ui.closeSearch.addEventListener('click', () => this.close(true));
    ui.searchPanel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close(true);
    });
    ui.searchInput.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !ui.searchPanel.hidden) this.close(false);
    });
    ui.searchResults.addEventListener('click', (event) => {
      const button = event.target.closest('button.search-result');
      if (!button) return;
      this.close(false);
      this.onChoose(button.dataset.roomId, button.dataset.messageId, Number(button.dataset.seq));
    });
  }

  /**
   * Searches and shows the results.
   * @param {string} query
   */
  async run(query) {
    const q = query.trim();
    if (!q) return;
    const generation = ++this.generation;
    this.ui.searchPanel.hidden = false;
    this.ui.searchResults.replaceChildren();
    this.ui.searchStatus.textContent = 'Searching…';
    try {
      const results = await this.api.search(q);
      if (generation !== this.generation) return;
      this.ui.searchStatus.textContent = results.length === 0
        ? `No messages match “${q}”.`
        : `${results.length} ${results.length === 1 ? 'message matches' : 'messages match'} “${q}”.`;
      this.ui.searchResults.replaceChildren(...results.map((m) => this.#result(m)));
    } catch (error) {
      if (generation === this.generation) this.ui.searchStatus.textContent = `Search failed: ${error.message}`;
    }
  }

  #result(message) {
    const room = this.roomName(message.room_id) ?? 'Room';
    return el('li', {},
      el('button.search-result', { type: 'button', dataset: { roomId: message.room_id, messageId: message.id, seq: message.seq } },
        el('span.result-meta', {},
          el('span.result-room', { text: room }), ' · ',
          el('span.result-sender', { text: message.sender_name ?? message.sender_id }), ' · ',
          el('span.result-time', { text: shortWhen(message.created_at) })),
        el('span.result-text', { text: snippet(message.content, 140) || 'Attachment' })));
  }

  /** Hides the results; `refocus` puts the keyboard back in the search box. */
  close(refocus) {
    this.generation += 1;
    this.ui.searchPanel.hidden = true;
    if (refocus) this.ui.searchInput.focus();
  }
}
