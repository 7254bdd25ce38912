// What room socket frames do to the open room (room-frames.js), with the real RoomStore and
// Receipts and recording stand-ins for the rest of the view (members, typing, sends, notice).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { handleRoomFrame } from '../../../crates/chat_http/assets/app/js/room-frames.js';
import { RoomStore } from '../../../crates/chat_http/assets/app/js/store.js';
import { Receipts } from '../../../crates/chat_http/assets/app/js/receipts.js';

const ME = { user_id: 'ann', user_name: 'Ann Lee' };

function msg(seq, extra = {}) {
  return { id: `m${seq}`, seq, sender_id: 'bob', content: `m${seq}`, created_at: '2024-03-15T10:00:00Z', is_deleted: false, ...extra };
}

/** A view with a real store and receipts; every other part records its calls. */
function view() {
  const calls = [];
  const record = (name) => (...args) => calls.push([name, ...args]);
  return {
    calls,
    me: ME,
    store: new RoomStore(ME),
    receipts: new Receipts(ME.user_id),
    members: { setOnline: record('setOnline'), presence: record('presence'), joined: record('joined'), left: record('left') },
    typing: { update: record('typing.update'), remove: record('typing.remove') },
    sends: { nameAttachments: () => {}, acked: record('acked') },
    notice: { show: record('notice') },
    refreshReceipts: record('refreshReceipts'),
    ui: { roomTitle: { textContent: 'Old' } },
  };
}

const names = (calls) => calls.map(([name]) => name);

describe('room-frames.js handleRoomFrame', () => {
  it('a message frame is stored once and advances since_seq; its sender stops typing', () => {
    const v = view();
    handleRoomFrame(v, { type: 'message', data: msg(5) });
    handleRoomFrame(v, { type: 'message', data: msg(5) }); // replayed after a reconnect
    assert.equal(v.store.messages.size, 1);
    assert.equal(v.store.highestSeq, 5);
    assert.deepEqual(v.calls.filter(([n]) => n === 'typing.remove'), [['typing.remove', 'bob'], ['typing.remove', 'bob']]);
  });

  it('an ack settles my pending message under its echo_id, without advancing since_seq', () => {
    const v = view();
    v.store.upsert(msg(4), { live: true, advance: true });
    v.store.addPending({ echoId: 'e1', content: 'hi' });
    handleRoomFrame(v, { type: 'ack', data: { echo_id: 'e1', message: msg(6, { sender_id: 'ann' }) } });
    assert.equal(v.store.pending.size, 0, 'the ack copy (no echo_id of its own) takes the frame\'s');
    assert.equal(v.store.get('m6').echo_id, 'e1');
    assert.equal(v.store.highestSeq, 4, 'seq 5 may still be on its way');
    assert.deepEqual(names(v.calls), ['acked', 'refreshReceipts']);
    // The same message then comes as a `message` frame: still one copy, since_seq moves.
    handleRoomFrame(v, { type: 'message', data: msg(5) });
    handleRoomFrame(v, { type: 'message', data: msg(6, { sender_id: 'ann', echo_id: 'e1' }) });
    assert.equal(v.store.messages.size, 3);
    assert.equal(v.store.highestSeq, 6);
  });

  it('an ack without a message does nothing', () => {
    const v = view();
    v.store.addPending({ echoId: 'e1', content: 'hi' });
    handleRoomFrame(v, { type: 'ack', data: { echo_id: 'e1' } });
    assert.equal(v.store.pending.size, 1);
    assert.deepEqual(v.calls, []);
  });

  it('a read frame moves that member\'s read position (and my ticks)', () => {
    const v = view();
    v.receipts.load([{ user_id: 'ann', last_read_seq: 0 }, { user_id: 'bob', last_read_seq: 1, last_delivered_seq: 1 }]);
    handleRoomFrame(v, { type: 'read', data: { user_id: 'bob', last_read_seq: 9 } });
    assert.equal(v.receipts.status(9), 'read');
  });

  it('ignores my own typing frames and shows others\'', () => {
    const v = view();
    handleRoomFrame(v, { type: 'typing', data: { user_id: 'ann', is_typing: true } });
    handleRoomFrame(v, { type: 'typing', data: { user_id: 'bob', is_typing: true } });
    assert.deepEqual(names(v.calls), ['typing.update']);
    assert.equal(v.calls[0][1].user_id, 'bob');
  });

  it('applies edits and deletions to the stored message', () => {
    const v = view();
    handleRoomFrame(v, { type: 'message', data: msg(3) });
    handleRoomFrame(v, { type: 'message_updated', data: msg(3, { content: 'edited' }) });
    assert.equal(v.store.get('m3').content, 'edited');
    handleRoomFrame(v, { type: 'message_deleted', data: msg(3, { is_deleted: true }) });
    assert.equal(v.store.get('m3').is_deleted, true);
    assert.equal(v.store.highestSeq, 3);
  });

  it('applies reactions with the user_id as a string', () => {
    const v = view();
    handleRoomFrame(v, { type: 'message', data: msg(3) });
    handleRoomFrame(v, { type: 'reaction_added', data: { message_id: 'm3', emoji: '🎉', user_id: 7 } });
    assert.deepEqual(v.store.get('m3').reactions, [{ emoji: '🎉', count: 1, user_ids: ['7'] }]);
    handleRoomFrame(v, { type: 'reaction_removed', data: { message_id: 'm3', emoji: '🎉', user_id: 7 } });
    assert.deepEqual(v.store.get('m3').reactions, []);
  });

  it('a member joining or leaving refreshes the receipts at once', () => {
    const v = view();
    handleRoomFrame(v, { type: 'user_joined', data: { user_id: 'cy', user_name: 'Cy' } });
    handleRoomFrame(v, { type: 'user_left', data: { user_id: 'cy' } });
    assert.deepEqual(v.calls, [
      ['joined', 'cy', 'Cy'], ['refreshReceipts', 0],
      ['left', 'cy'], ['typing.remove', 'cy'], ['refreshReceipts', 0],
    ]);
  });

  it('shows server errors except rate limits', () => {
    const v = view();
    handleRoomFrame(v, { type: 'error', data: { code: 'rate_limited', message: 'slow' } });
    handleRoomFrame(v, { type: 'error', data: { code: 'forbidden', message: 'not allowed' } });
    assert.deepEqual(v.calls, [['notice', 'The server refused a request: not allowed']]);
  });

  it('ignores unknown frames and frames after the room was closed (no store)', () => {
    const v = view();
    handleRoomFrame(v, { type: 'something_new', data: {} });
    v.store = null;
    handleRoomFrame(v, { type: 'typing', data: { user_id: 'bob', is_typing: true } });
    assert.deepEqual(v.calls, []);
  });
});
