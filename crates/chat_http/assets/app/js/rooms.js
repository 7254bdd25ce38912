// The sidebar: the user's rooms (account dialect, `GET /accounts/{id}/chat_rooms`) kept
// live by ONE user stream (`/api/v1/accounts/{id}/ws`), whatever room is open.
//
// The stream speaks the account dialect: rooms and users are integer ids, a message names
// its room in `conversation_id`, says `message_type: "incoming"` when someone else sent
// it, and lists mentioned users' integer ids in `content_attributes.mentions`. A message
// in a room that is not open bumps its unread badge (and its mention badge when it
// mentions me). Membership and room changes reload the list.

import { el } from './render.js';

const RELOAD_DEBOUNCE_MS = 300;
const RELOAD_ON = new Set(['user_joined', 'user_left', 'room_updated', 'room_deleted', 'room_deactivated', 'room_activated']);

/** The list of rooms in the sidebar. */
export class RoomList {
  /**
   * @param {object} deps
   * @param {import('./api.js').Api} deps.api
   * @param {{id: number, account_id: number}} deps.me
   * @param {HTMLUListElement} deps.list `ul#rooms`
   * @param {(room: any) => void} deps.onOpen a room was chosen
   * @param {(rooms: any[]) => void} [deps.onLoad] the list was (re)loaded
   */
  constructor({ api, me, list, onOpen, onLoad }) {
    Object.assign(this, { api, me, list, onOpen, onLoad });
    /** @type {any[]} */
    this.rooms = [];
    this.activeUuid = null;
    this.reloadTimer = 0;
    list.addEventListener('click', (event) => {
      const button = event.target.closest('button.room');
      const room = button && this.byUuid(button.dataset.roomId);
      if (room) this.onOpen(room);
    });
  }

  /** Reads the rooms again from the server. */
  async load() {
    const rooms = await this.api.accountRooms(this.me.account_id);
    // Administrators are shown every room of the account; the sidebar lists their own.
    this.rooms = rooms.filter((room) => room.is_member !== false && room.uuid);
    for (const room of this.rooms) if (room.uuid === this.activeUuid) clearBadges(room);
    this.render();
    this.onLoad?.(this.rooms);
  }

  /** A room by its ChatAPI uuid. */
  byUuid(uuid) {
    return this.rooms.find((room) => room.uuid === uuid);
  }

  /** A room by its account-dialect integer id. */
  byId(id) {
    return this.rooms.find((room) => room.id === id);
  }

  /** Marks the open room (aria-current) and clears its badges. */
  setActive(uuid) {
    this.activeUuid = uuid;
    const room = uuid && this.byUuid(uuid);
    if (room) clearBadges(room);
    for (const button of this.list.querySelectorAll('button.room')) {
      if (button.dataset.roomId === uuid) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
    if (room) this.#patchBadges(room);
  }

  /** The open room was read up to its newest message. */
  markRead(uuid) {
    const room = this.byUuid(uuid);
    if (!room) return;
    clearBadges(room);
    this.#patchBadges(room);
  }

  /** Draws the whole list, keeping the keyboard focus on the same room. */
  render() {
    const focused = document.activeElement?.closest?.('button.room')?.dataset.roomId;
    const items = this.rooms.map((room) => el('li', {}, this.#button(room)));
    if (items.length === 0) items.push(el('li.rooms-empty', { text: 'You are not in any room yet.' }));
    this.list.replaceChildren(...items);
    if (focused) this.list.querySelector(`button.room[data-room-id="${CSS.escape(focused)}"]`)?.focus();
  }

  #button(room) {
    const button = el('button.room', { type: 'button', dataset: { roomId: room.uuid } },
      el('span.room-name', { text: room.name }),
      el('span.badge-mention', { role: 'img' }),
      el('span.badge-unread', { role: 'img' }));
    if (room.uuid === this.activeUuid) button.setAttribute('aria-current', 'page');
    this.#fillBadges(button, room);
    return button;
  }

  #patchBadges(room) {
    const button = this.list.querySelector(`button.room[data-room-id="${CSS.escape(room.uuid)}"]`);
    if (button) this.#fillBadges(button, room);
  }

  #fillBadges(button, room) {
    const unread = room.unread_count ?? 0;
    const mentions = room.unread_mentions ?? 0;
    const unreadBadge = button.querySelector('.badge-unread');
    unreadBadge.hidden = unread === 0;
    unreadBadge.textContent = String(unread);
    unreadBadge.setAttribute('aria-label', `${unread} unread ${unread === 1 ? 'message' : 'messages'}`);
    const mentionBadge = button.querySelector('.badge-mention');
    mentionBadge.hidden = mentions === 0;
    mentionBadge.textContent = String(mentions);
    mentionBadge.setAttribute('aria-label', `${mentions} ${mentions === 1 ? 'mention' : 'mentions'}`);
  }

  /**
   * One frame of the user stream.
   * @param {{type: string, data: any, room_id: number|null}} frame
   */
  handleFrame({ type, data }) {
    if (type === 'message') this.#message(data);
    else if (RELOAD_ON.has(type)) this.reloadSoon();
  }

  #message(message) {
    const room = this.byId(message.conversation_id);
    if (!room) {
      this.reloadSoon();
      return;
    }
    room.last_message_at = message.created_at;
    if (room.uuid === this.activeUuid || message.message_type !== 'incoming') return;
    room.unread_count = (room.unread_count ?? 0) + 1;
    if ((message.content_attributes?.mentions ?? []).includes(this.me.id)) {
      room.unread_mentions = (room.unread_mentions ?? 0) + 1;
    }
    this.#patchBadges(room);
  }

  /** Reloads the list shortly (several frames in a row cause one reload). */
  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load().catch(() => {}), RELOAD_DEBOUNCE_MS);
  }

  /** Stops pending work. */
  stop() {
    clearTimeout(this.reloadTimer);
  }
}

function clearBadges(room) {
  room.unread_count = 0;
  room.unread_mentions = 0;
}
