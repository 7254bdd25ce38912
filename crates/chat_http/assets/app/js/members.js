// The open room's members (`ul#members`) and who of them is online.
//
// Members come from `GET /rooms/{id}/participants` (ChatAPI user_ids, the ids messages,
// typing and presence frames use). Online state comes from the room socket:
// `connection_status.online_users` when it opens, then `presence {user_id, status}`.

import { el } from './render.js';

/** The members of the open room. */
export class Members {
  /** @param {HTMLUListElement} list */
  constructor(list) {
    this.list = list;
    /** user_id → {user_id, user_name, online} @type {Map<string, {user_id: string, user_name: string, online: boolean}>} */
    this.people = new Map();
  }

  /** Replaces the members (keeping known online states). */
  load(participants) {
    const before = this.people;
    this.people = new Map(participants.map((p) => [p.user_id, {
      user_id: p.user_id,
      user_name: p.user_name ?? p.user_id,
      online: before.get(p.user_id)?.online ?? false,
    }]));
    this.render();
  }

  /** Empties the list. */
  clear() {
    this.people = new Map();
    this.render();
  }

  /** A member's name. */
  nameOf(userId) {
    return this.people.get(userId)?.user_name;
  }

  /** Every member, as `{user_id, user_name}`. */
  all() {
    return [...this.people.values()];
  }

  /** Sets who is online from a full list (`connection_status`, `online_users`). */
  setOnline(userIds) {
    const online = new Set(userIds);
    for (const person of this.people.values()) person.online = online.has(person.user_id);
    this.render();
  }

  /** A `presence` frame. */
  presence(userId, status) {
    const person = this.people.get(userId);
    if (!person) return;
    person.online = status === 'online';
    this.#patch(person);
  }

  /** A `user_joined` frame. */
  joined(userId, userName) {
    if (!this.people.has(userId)) this.people.set(userId, { user_id: userId, user_name: userName ?? userId, online: false });
    this.render();
  }

  /** A `user_left` frame. */
  left(userId) {
    this.people.delete(userId);
    this.render();
  }

  /** Draws the list: online members first, then by name. */
  render() {
    const sorted = this.all().sort((a, b) => Number(b.online) - Number(a.online) || a.user_name.localeCompare(b.user_name));
    this.list.replaceChildren(...sorted.map((person) => this.#item(person)));
  }

  #item(person) {
    const li = el('li.member', { dataset: { userId: person.user_id } },
      el('span.presence-dot', { 'aria-hidden': 'true' }),
      el('span.member-name', { text: person.user_name }));
    this.#state(li, person);
    return li;
  }

  #patch(person) {
    const li = [...this.list.children].find((node) => node.dataset.userId === person.user_id);
    if (li) this.#state(li, person);
  }

  #state(li, person) {
    li.dataset.online = String(person.online);
    li.setAttribute('aria-label', `${person.user_name} (${person.online ? 'online' : 'offline'})`);
    li.title = person.online ? 'Online' : 'Offline';
  }
}
