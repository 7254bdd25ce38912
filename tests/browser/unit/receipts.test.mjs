// Ticks on my own messages (receipts.js): sent / delivered / read from every other member's
// read and delivered positions.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Receipts, TICK_LABELS } from '../../../crates/chat_http/assets/app/js/receipts.js';

const ME = 'ann';

/** A receipts answer row. */
const row = (user_id, last_read_seq, last_delivered_seq = 0) => ({ user_id, last_read_seq, last_delivered_seq });

describe('receipts.js Receipts', () => {
  it('is "sent" when I am alone in the room, whatever my own position', () => {
    const receipts = new Receipts(ME);
    assert.equal(receipts.status(5), 'sent');
    receipts.load([row(ME, 100, 100)]);
    assert.equal(receipts.status(5), 'sent');
  });

  it('is "read" only when every other member has read up to the seq', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 0), row('bob', 10, 10), row('cy', 9, 10)]);
    assert.equal(receipts.status(9), 'read');
    assert.equal(receipts.status(10), 'delivered', 'cy has not read 10 yet');
    receipts.read('cy', 10);
    assert.equal(receipts.status(10), 'read');
    assert.equal(receipts.status(11), 'sent');
  });

  it('ignores my own position (my reading my message does not make it read)', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 50, 50), row('bob', 3, 3)]);
    assert.equal(receipts.status(10), 'sent');
    receipts.read(ME, 60);
    assert.equal(receipts.status(10), 'sent');
  });

  it('is "delivered" when every other member\'s max(delivered, read) reaches the seq', () => {
    const receipts = new Receipts(ME);
    // bob: delivered up to 10; cy: nothing delivered but read up to 10 (read implies delivered).
    receipts.load([row(ME, 0), row('bob', 2, 10), row('cy', 10, 0)]);
    assert.equal(receipts.status(10), 'delivered');
    assert.equal(receipts.status(11), 'sent');
  });

  it('stays "sent" while one other member has neither received nor read the seq', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 0), row('bob', 10, 10), row('cy', 4, 7)]);
    assert.equal(receipts.status(8), 'sent');
    assert.equal(receipts.status(7), 'delivered');
  });

  it('a live read frame also moves the delivered position', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 0), row('bob', 0, 0)]);
    receipts.read('bob', 12);
    assert.equal(receipts.readSeq('bob'), 12);
    assert.equal(receipts.positions.get('bob').delivered, 12);
    assert.equal(receipts.status(12), 'read');
  });

  it('never moves backwards when a load answer is older than a live read frame', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 0), row('bob', 3, 5)]);
    receipts.read('bob', 20); // live frame
    receipts.load([row(ME, 0), row('bob', 8, 9)]); // answer computed before the frame
    assert.equal(receipts.readSeq('bob'), 20);
    assert.equal(receipts.positions.get('bob').delivered, 20);
    assert.equal(receipts.status(20), 'read');
  });

  it('never moves backwards on a stale read frame', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 0), row('bob', 15, 15)]);
    let changes = 0;
    receipts.addEventListener('change', () => changes++);
    receipts.read('bob', 7);
    assert.equal(receipts.readSeq('bob'), 15);
    assert.equal(changes, 0, 'no change event for a stale frame');
  });

  it('takes a newer load answer over older positions', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 0), row('bob', 3, 5)]);
    receipts.load([row(ME, 0), row('bob', 8, 9)]);
    assert.equal(receipts.readSeq('bob'), 8);
    assert.equal(receipts.positions.get('bob').delivered, 9);
  });

  it('counts only the members of the latest load (one who left no longer holds ticks back)', () => {
    const receipts = new Receipts(ME);
    receipts.load([row(ME, 0), row('bob', 10, 10), row('cy', 0, 0)]);
    assert.equal(receipts.status(10), 'sent');
    receipts.load([row(ME, 0), row('bob', 10, 10)]);
    assert.equal(receipts.status(10), 'read');
  });

  it('matches numeric user_ids to string ones', () => {
    const receipts = new Receipts('1');
    receipts.load([row(1, 0), row(2, 4, 4)]);
    receipts.read(2, 9);
    assert.equal(receipts.readSeq('2'), 9);
    assert.equal(receipts.status(9), 'read');
  });

  it('dispatches "change" on load and on a read that moves forward', () => {
    const receipts = new Receipts(ME);
    let changes = 0;
    receipts.addEventListener('change', () => changes++);
    receipts.load([row('bob', 1, 1)]);
    receipts.read('bob', 2);
    assert.equal(changes, 2);
  });

  it('has a label for every status', () => {
    assert.deepEqual(TICK_LABELS, { sent: 'Sent', delivered: 'Delivered', read: 'Read' });
  });
});
