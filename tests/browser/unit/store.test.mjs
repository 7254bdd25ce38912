// The open room's messages (store.js): each message once whatever path it came by, pending
// messages settled by echo_id, and the seqs the next requests start from.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { RoomStore } from '../../../crates/chat_http/assets/app/js/store.js';

const ME = { user_id: 'ann', user_name: 'Ann Lee' };

/** A ChatAPI message. */
function msg(seq, extra = {}) {
  return {
    id: `m${seq}`,
    seq,
    sender_id: 'bob',
    sender_name: 'Bob Byrne',
    content: `message ${seq}`,
    created_at: new Date(Date.UTC(2024, 0, 1, 12, 0, seq)).toISOString(),
    is_deleted: false,
    reply_to: null,
    ...extra,
  };
}

/** Records the events of a store. */
function record(store) {
  const events = [];
  for (const type of ['message', 'page', 'pending', 'reply']) store.on(type, (detail) => events.push({ type, ...detail }));
  return events;
}

describe('store.js RoomStore: each message once', () => {
  it('keeps a message that arrives by page, live frame, replay and ack once', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(3), msg(2), msg(1)], { older: false, hasMore: false });
    assert.equal(store.upsert(msg(3), { live: true, advance: true }), false, 'live frame: not new');
    assert.equal(store.upsert(msg(3), { live: true, advance: true }), false, 'replay: not new');
    assert.equal(store.upsert(msg(3), { live: true }), false, 'ack: not new');
    store.addPage([msg(3)], { older: false, hasMore: false }); // a refetch
    assert.equal(store.messages.size, 3);
    assert.deepEqual([...store.messages.keys()].sort(), ['m1', 'm2', 'm3']);
  });

  it('says a message is new only the first time', () => {
    const store = new RoomStore(ME);
    assert.equal(store.upsert(msg(1), { live: true, advance: true }), true);
    assert.equal(store.upsert(msg(1), { live: true, advance: true }), false);
  });

  it('replaces the stored copy with the latest (an edit arriving after the message)', () => {
    const store = new RoomStore(ME);
    store.upsert(msg(1));
    store.upsert(msg(1, { content: 'edited' }));
    assert.equal(store.get('m1').content, 'edited');
    assert.equal(store.messages.size, 1);
  });

  it('does not store a deletion of a message it never had', () => {
    const store = new RoomStore(ME);
    const events = record(store);
    assert.equal(store.upsert(msg(4, { is_deleted: true }), { live: true }), false);
    assert.equal(store.get('m4'), undefined);
    assert.equal(events.length, 0);
  });

  it('remember() keeps messages without replacing ones already held', () => {
    const store = new RoomStore(ME);
    store.upsert(msg(1, { content: 'live copy' }));
    store.remember([msg(1, { content: 'older copy' }), msg(9)]);
    assert.equal(store.get('m1').content, 'live copy');
    assert.ok(store.get('m9'));
  });
});

describe('store.js RoomStore: pending messages', () => {
  it('replaces a pending message by the server copy with the same echo_id (ack)', () => {
    const store = new RoomStore(ME);
    const events = record(store);
    const pending = store.addPending({ echoId: 'e1', content: 'hi' });
    assert.equal(pending.sender_id, 'ann');
    assert.equal(pending.failed, false);
    assert.ok(store.pending.has('e1'));
    store.upsert(msg(7, { sender_id: 'ann', echo_id: 'e1', content: 'hi' }), { live: true });
    assert.equal(store.pending.has('e1'), false);
    assert.equal(store.messages.size, 1);
    const settled = events.find((e) => e.type === 'message');
    assert.equal(settled.echoId, 'e1');
  });

  it('settles a pending message from a history page carrying its echo_id', () => {
    const store = new RoomStore(ME);
    const events = record(store);
    store.addPending({ echoId: 'e2', content: 'hello' });
    store.addPage([msg(8, { sender_id: 'ann', echo_id: 'e2' }), msg(7)], { older: false, hasMore: false });
    assert.equal(store.pending.size, 0);
    assert.deepEqual(events.find((e) => e.type === 'page').settled, ['e2']);
  });

  it('does not settle my pending message with someone else\'s message of the same echo_id', () => {
    const store = new RoomStore(ME);
    store.addPending({ echoId: 'same', content: 'mine' });
    store.upsert(msg(5, { sender_id: 'bob', echo_id: 'same' }), { live: true, advance: true });
    assert.ok(store.pending.has('same'));
  });

  it('does not settle a pending message with a message of mine without that echo_id', () => {
    const store = new RoomStore(ME);
    store.addPending({ echoId: 'e3', content: 'x' });
    store.upsert(msg(5, { sender_id: 'ann', echo_id: 'other' }), { live: true, advance: true });
    store.upsert(msg(6, { sender_id: 'ann' }), { live: true, advance: true });
    assert.ok(store.pending.has('e3'));
  });

  it('marks a pending message failed and back to retrying', () => {
    const store = new RoomStore(ME);
    store.addPending({ echoId: 'e4', content: 'x' });
    store.setPendingFailed('e4', true, 'forbidden');
    assert.equal(store.pending.get('e4').failed, true);
    assert.equal(store.pending.get('e4').error, 'forbidden');
    store.setPendingFailed('e4', false);
    assert.equal(store.pending.get('e4').failed, false);
  });
});

describe('store.js RoomStore: highestSeq (next since_seq) and oldestSeq (next before_seq)', () => {
  it('starts with nothing loaded: since_seq 0, before_seq unbounded', () => {
    const store = new RoomStore(ME);
    assert.equal(store.highestSeq, 0);
    assert.equal(store.oldestSeq, Infinity);
  });

  it('follows the first page, whatever its order', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(50), msg(48), msg(49)], { older: false, hasMore: true });
    assert.equal(store.highestSeq, 50);
    assert.equal(store.oldestSeq, 48);
  });

  it('moves oldestSeq down with each older page and leaves highestSeq alone', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(50), msg(49)], { older: false, hasMore: true });
    store.addPage([msg(48), msg(47)], { older: true, hasMore: true });
    assert.equal(store.oldestSeq, 47);
    assert.equal(store.highestSeq, 50);
  });

  it('advances highestSeq with live message frames (in order, no gaps)', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(10)], { older: false, hasMore: false });
    store.upsert(msg(11), { live: true, advance: true });
    store.upsert(msg(12), { live: true, advance: true });
    assert.equal(store.highestSeq, 12);
    assert.equal(store.oldestSeq, 10, 'live frames do not move before_seq');
  });

  it('gap case: an ack overtaking a queued frame does not advance highestSeq', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(10)], { older: false, hasMore: false });
    store.addPending({ echoId: 'e', content: 'x' });
    // 11 (someone else's) is still queued on the socket when the ack of my 12 arrives.
    store.upsert(msg(12, { sender_id: 'ann', echo_id: 'e' }), { live: true });
    assert.equal(store.highestSeq, 10, 'a reconnect must still ask for everything after 10');
    store.upsert(msg(11), { live: true, advance: true });
    assert.equal(store.highestSeq, 11);
    store.upsert(msg(12, { sender_id: 'ann', echo_id: 'e' }), { live: true, advance: true });
    assert.equal(store.highestSeq, 12);
  });

  it('never lowers highestSeq on an older frame (a replay of something already seen)', () => {
    const store = new RoomStore(ME);
    store.upsert(msg(20), { live: true, advance: true });
    store.upsert(msg(15, { content: 'edited' }), { live: true, advance: true });
    assert.equal(store.highestSeq, 20);
  });

  it('windowStart: the oldest loaded seq while more history exists, 0 once it is all loaded', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(50), msg(49)], { older: false, hasMore: true });
    assert.equal(store.windowStart, 49);
    assert.equal(store.inWindow(48), false);
    store.addPage([msg(48), msg(47)], { older: true, hasMore: true });
    assert.equal(store.windowStart, 47);
    store.addPage([msg(46)], { older: true, hasMore: false });
    assert.equal(store.windowStart, 0);
    assert.equal(store.inWindow(1), true);
  });

  it('windowStart: only the first page and older pages set it, not a newer page (a refetch)', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(50), msg(49)], { older: false, hasMore: true });
    store.remember([msg(10)]); // a quoted message, far before the window
    store.addPage([msg(52), msg(51)], { older: false, hasMore: false });
    assert.equal(store.windowStart, 49);
    assert.equal(store.inWindow(10), false);
  });

  it('newest() skips deleted messages and those before the window', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(10), msg(9)], { older: false, hasMore: true });
    store.remember([msg(3)]); // a quote, outside the window
    store.upsert(msg(11), { live: true, advance: true });
    store.upsert(msg(11, { is_deleted: true }), { live: true });
    assert.equal(store.newest().id, 'm10');
  });
});

describe('store.js RoomStore: replies and reactions', () => {
  it('counts a live reply on its parent, and uncounts it when deleted (never below 0)', () => {
    const store = new RoomStore(ME);
    const events = record(store);
    store.addPage([msg(1, { reply_count: 0 })], { older: false, hasMore: false });
    store.upsert(msg(2, { reply_to: 'm1' }), { live: true, advance: true });
    assert.equal(store.get('m1').reply_count, 1);
    assert.equal(events.filter((e) => e.type === 'reply').length, 1);
    store.upsert(msg(2, { reply_to: 'm1', is_deleted: true }), { live: true });
    assert.equal(store.get('m1').reply_count, 0);
    store.setReplyCount('m1', 0);
    store.upsert(msg(3, { reply_to: 'm1', is_deleted: false }), { live: true }); // new: +1
    store.upsert(msg(3, { reply_to: 'm1', is_deleted: true }), { live: true }); // -1
    store.upsert(msg(3, { reply_to: 'm1', is_deleted: true }), { live: true }); // no change
    assert.equal(store.get('m1').reply_count, 0);
  });

  it('does not count a reply seen again (a replay of a reply already held)', () => {
    const store = new RoomStore(ME);
    store.addPage([msg(1, { reply_count: 1 }), msg(2, { reply_to: 'm1' })], { older: false, hasMore: false });
    store.upsert(msg(2, { reply_to: 'm1' }), { live: true, advance: true });
    assert.equal(store.get('m1').reply_count, 1);
  });

  it('repliesTo() lists a thread oldest first, without deleted replies', () => {
    const store = new RoomStore(ME);
    store.remember([msg(7, { reply_to: 'p' }), msg(5, { reply_to: 'p' }), msg(6, { reply_to: 'p', is_deleted: true }), msg(8)]);
    assert.deepEqual(store.repliesTo('p').map((m) => m.seq), [5, 7]);
  });

  it('setReaction is idempotent (frames and answers repeat) and drops empty reactions', () => {
    const store = new RoomStore(ME);
    store.upsert(msg(1));
    assert.equal(store.setReaction('m1', '👍', 'ann', true), true);
    assert.equal(store.setReaction('m1', '👍', 'ann', true), false);
    assert.equal(store.setReaction('m1', '👍', 'bob', true), true);
    assert.deepEqual(store.get('m1').reactions, [{ emoji: '👍', count: 2, user_ids: ['ann', 'bob'] }]);
    store.setReaction('m1', '👍', 'ann', false);
    store.setReaction('m1', '👍', 'bob', false);
    assert.equal(store.setReaction('m1', '👍', 'bob', false), false);
    assert.deepEqual(store.get('m1').reactions, []);
    assert.equal(store.setReaction('unknown', '👍', 'ann', true), false);
  });

  it('setReaction does not mutate the previous copy of the message', () => {
    const store = new RoomStore(ME);
    store.upsert(msg(1, { reactions: [{ emoji: '🎉', count: 1, user_ids: ['bob'] }] }));
    const before = store.get('m1');
    store.setReaction('m1', '🎉', 'ann', true);
    assert.deepEqual(before.reactions, [{ emoji: '🎉', count: 1, user_ids: ['bob'] }]);
  });
});
