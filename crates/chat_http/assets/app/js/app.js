// The signed-in application: sidebar and user stream, the open room, thread, search, and
// the phone-width drawer. Made once per page load (signing out reloads the page, which
// closes every socket and timer for certain).

import { LiveSocket } from './socket.js';
import { RoomList } from './rooms.js';
import { RoomView } from './room.js';
import { ThreadPanel } from './thread.js';
import { Search } from './search.js';
import { Composer } from './composer.js';
import { ConnectionStatus, Notice } from './status.js';
import { bindMessageActions } from './actions.js';

const LAST_ROOM_KEY = 'chat.room';
const PHONE = window.matchMedia('(max-width: 480px)');

/** The chat, for one signed-in user. */
export class ChatApp {
  /**
   * @param {object} deps
   * @param {import('./api.js').Api} deps.api
   * @param {any} deps.me the `/api/v1/me` answer
   * @param {Record<string, HTMLElement>} deps.ui
   * @param {(message: string) => void} deps.endSession sign out, showing `message`
   */
  constructor({ api, me, ui, endSession }) {
    Object.assign(this, { api, me, ui, endSession });
    this.connection = new ConnectionStatus(ui.connection);
    this.notice = new Notice(ui.notice);
    this.thread = new ThreadPanel({ ui, notice: this.notice, onToggle: (open) => ui.appView.classList.toggle('thread-open', open) });
    this.composer = this.#composer();
    this.room = new RoomView({
      api, me, ui,
      composer: this.composer,
      thread: this.thread,
      connection: this.connection,
      notice: this.notice,
      hooks: {
        onRead: (uuid) => this.rooms.markRead(uuid),
        onGone: () => this.#roomGone(),
        onSessionEnded: () => endSession('Your session has ended'),
      },
    });
    this.rooms = new RoomList({ api, me, list: ui.rooms, onOpen: (room) => this.openRoom(room) });
    this.search = new Search({
      api, ui,
      roomName: (uuid) => this.rooms.byUuid(uuid)?.name,
      onChoose: (roomId, messageId, seq) => this.#showResult(roomId, messageId, seq),
    });
    this.#bindHistory();
    this.#bindChrome();
  }

  /** Shows the app, loads the rooms and opens the user stream. */
  async start() {
    this.ui.me.textContent = this.me.user_name;
    this.ui.signinView.hidden = true;
    this.ui.appView.hidden = false;
    try {
      await this.rooms.load();
    } catch (error) {
      this.notice.show(`Could not load your rooms: ${error.message}`);
    }
    this.#openStream();
    const last = sessionStorage.getItem(LAST_ROOM_KEY);
    const room = last && this.rooms.byUuid(last);
    if (room) this.openRoom(room);
  }

  /**
   * Opens a room (ChatAPI dialect) from its sidebar entry.
   * @param {{id: number, uuid: string, name: string}} room
   */
  async openRoom(room) {
    this.#setDrawer(false);
    if (this.room.uuid === room.uuid) return;
    this.rooms.setActive(room.uuid);
    sessionStorage.setItem(LAST_ROOM_KEY, room.uuid);
    if (PHONE.matches) this.ui.roomTitle.focus();
    await this.room.open(room);
  }

  #openStream() {
    this.stream = new LiveSocket({
      url: () => this.api.streamUrl(this.me.account_id),
      onFrame: (frame) => this.rooms.handleFrame(frame),
      onState: (state) => this.connection.set('stream', state),
      onReady: ({ reconnected }) => reconnected && this.rooms.reloadSoon(),
      onFinal: (code) => {
        if (code === 4001) this.endSession('Your session has ended');
        else this.notice.show('Live updates of the room list are not available for this credential.');
      },
    });
    this.stream.start();
  }

  #composer() {
    const { ui } = this;
    return new Composer({
      form: ui.composer,
      input: ui.messageInput,
      fileInput: ui.fileInput,
      progress: ui.uploadProgress,
      replyBanner: ui.replyingTo,
      onSend: (text, replyTo) => this.room.send(text, replyTo),
      onTyped: () => this.room.typingOut?.typed(),
      onStopTyping: () => this.room.typingOut?.stop(),
      onFiles: (files, text) => this.room.uuid && this.room.sends.upload(files, text),
      onError: (message) => this.notice.show(message),
    });
  }

  #bindHistory() {
    const sends = () => this.room.sends;
    bindMessageActions(this.ui.messages, {
      react: (id, emoji, reacted) => sends().react(id, emoji, reacted),
      reply: (id) => {
        const message = this.room.store?.get(id);
        if (!message) return;
        this.composer.setReply(message);
        this.composer.focus();
      },
      thread: (id) => this.thread.open(id),
      jump: (id, seq) => this.room.reveal(id, seq),
      retry: (echoId) => sends().retry(echoId),
      discard: (echoId) => sends().discard(echoId),
    });
  }

  #bindChrome() {
    const { ui } = this;
    ui.signout.addEventListener('click', () => this.endSession(''));
    ui.toggleRooms.addEventListener('click', () => this.#setDrawer(!ui.appView.classList.contains('drawer-open')));
    ui.sidebar.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && ui.appView.classList.contains('drawer-open')) {
        this.#setDrawer(false);
        ui.toggleRooms.focus();
      }
    });
    PHONE.addEventListener('change', () => this.#setDrawer(false));
    // A tap outside the open drawer closes it.
    document.addEventListener('click', (event) => {
      if (!ui.appView.classList.contains('drawer-open')) return;
      if (!ui.sidebar.contains(event.target) && !ui.toggleRooms.contains(event.target)) this.#setDrawer(false);
    });
  }

  #setDrawer(open) {
    const { ui } = this;
    const wasOpen = ui.appView.classList.contains('drawer-open');
    ui.appView.classList.toggle('drawer-open', open);
    ui.toggleRooms.setAttribute('aria-expanded', String(open));
    // While the drawer covers the page, what is behind it is out of reach.
    for (const behind of [ui.room, ui.thread, ui.searchPanel]) behind.inert = open;
    if (open && !wasOpen) {
      (ui.rooms.querySelector('button.room[aria-current]') ?? ui.rooms.querySelector('button.room'))?.focus();
    }
  }

  #roomGone() {
    sessionStorage.removeItem(LAST_ROOM_KEY);
    this.rooms.setActive(null);
    this.rooms.reloadSoon();
  }

  async #showResult(roomId, messageId, seq) {
    const room = this.rooms.byUuid(roomId);
    if (!room) {
      this.notice.show('That message is in a room you are no longer in.');
      return;
    }
    if (this.room.uuid !== roomId) await this.openRoom(room);
    if (!(await this.room.reveal(messageId, seq))) this.notice.show('That message is no longer in the room.');
  }
}
