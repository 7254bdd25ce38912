// What each frame of a room socket (ChatAPI dialect, docs/asyncapi.yaml) does to the
// open room.

/**
 * Applies one frame to the room view.
 * @param {import('./room.js').RoomView} view
 * @param {{type: string, data: any}} frame
 */
export function handleRoomFrame(view, { type, data }) {
  const handler = HANDLERS[type];
  if (handler && view.store) handler(view, data ?? {});
}

const HANDLERS = {
  connection_status: (view, data) => view.members.setOnline(data.online_users ?? []),
  online_users: (view, data) => view.members.setOnline(data.online_users ?? []),

  message(view, message) {
    view.sends.nameAttachments(message);
    view.store.upsert(message, { live: true, advance: true });
    view.typing.remove(message.sender_id);
  },
  message_updated: changed,
  message_deleted: changed,
  message_restored: changed,
  message_pinned: changed,
  message_unpinned: changed,

  ack(view, { echo_id: echoId, message }) {
    if (!message) return;
    view.sends.acked(echoId);
    view.store.upsert({ ...message, echo_id: message.echo_id ?? echoId }, { live: true });
    view.refreshReceipts();
  },

  reaction_added: (view, d) => view.store.setReaction(d.message_id, d.emoji, String(d.user_id), true),
  reaction_removed: (view, d) => view.store.setReaction(d.message_id, d.emoji, String(d.user_id), false),

  presence: (view, d) => view.members.presence(String(d.user_id), d.status),

  typing(view, d) {
    if (String(d.user_id) !== view.me.user_id) view.typing.update(d);
  },

  read(view, d) {
    view.receipts.read(String(d.user_id), d.last_read_seq ?? 0);
  },

  user_joined(view, d) {
    view.members.joined(String(d.user_id), d.user_name);
    view.refreshReceipts(0);
  },
  user_left(view, d) {
    view.members.left(String(d.user_id));
    view.typing.remove(d.user_id);
    view.refreshReceipts(0);
  },

  room_updated(view, room) {
    if (room.name) view.ui.roomTitle.textContent = room.name;
  },
  room_deactivated(view) {
    view.notice.show('This room is inactive: nothing can be sent to it for now.');
  },
  room_activated(view) {
    view.notice.show('This room is active again.');
  },

  error(view, { code, message }) {
    // Refusals of a message frame are handled with the message (socket.js); a rate limit
    // on typing or read frames is not worth telling.
    if (code === 'rate_limited') return;
    view.notice.show(`The server refused a request: ${message ?? code}`);
  },
};

function changed(view, message) {
  view.store.upsert(message, { live: true });
}
