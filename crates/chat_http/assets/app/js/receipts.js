// Ticks on my own messages.
//
// A member's read and delivered positions are seqs. `GET /rooms/{id}/receipts` gives
// everyone's; live `read` frames move a read position at once (read implies delivered).
// Delivered positions have no live event (they move whenever a socket of the member
// receives a message), so they are fetched again a moment after each of my sends is
// acknowledged and after every reconnect.
//
// A message of mine with seq s is:
//   read       when every other member's last_read_seq >= s
//   delivered  when every other member's max(last_delivered_seq, last_read_seq) >= s
//   sent       otherwise, and always when I am alone in the room.

/** @typedef {'sent'|'delivered'|'read'} TickStatus */

/** Every member's positions in one room. */
export class Receipts extends EventTarget {
  /** @param {string} self my user_id */
  constructor(self) {
    super();
    this.self = self;
    /** user_id → {read, delivered} @type {Map<string, {read: number, delivered: number}>} */
    this.positions = new Map();
  }

  /**
   * Takes the server's list: its members, each at the furthest of what is known (a `read`
   * frame may have overtaken the answer; positions never go backwards).
   */
  load(list) {
    const before = this.positions;
    this.positions = new Map(list.map((r) => {
      const id = String(r.user_id);
      const read = Math.max(r.last_read_seq ?? 0, before.get(id)?.read ?? 0);
      const delivered = Math.max(r.last_delivered_seq ?? 0, before.get(id)?.delivered ?? 0, read);
      return [id, { read, delivered }];
    }));
    this.#changed();
  }

  /** A live `read` frame: the user's read position (never backwards). */
  read(userId, seq) {
    const key = String(userId);
    const position = this.positions.get(key) ?? { read: 0, delivered: 0 };
    if (seq <= position.read) return;
    this.positions.set(key, { read: seq, delivered: Math.max(position.delivered, seq) });
    this.#changed();
  }

  /** The read position of one member (0 when unknown). */
  readSeq(userId) {
    return this.positions.get(String(userId))?.read ?? 0;
  }

  /**
   * The tick status of my message with this seq.
   * @param {number} seq
   * @returns {TickStatus}
   */
  status(seq) {
    const others = [...this.positions.entries()].filter(([id]) => id !== this.self).map(([, p]) => p);
    if (others.length === 0) return 'sent';
    if (others.every((p) => p.read >= seq)) return 'read';
    if (others.every((p) => p.delivered >= seq)) return 'delivered';
    return 'sent';
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}

/** The label read out for each status. */
export const TICK_LABELS = { sent: 'Sent', delivered: 'Delivered', read: 'Read' };
