// Typing, both ways (typing.js): at most one `true` every 3 s, `false` after 4 s idle or on
// send; others' indicators expire after 6 s without a frame. Timers are node:test's mocks.

import { describe, it, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';

import { TypingIndicator, TypingSender, typingText } from '../../../crates/chat_http/assets/app/js/typing.js';

const tick = (ms) => mock.timers.tick(ms);

describe('typing.js', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  describe('TypingSender', () => {
    it('sends true on the first keystroke and at most every 3 s while typing', () => {
      const sent = [];
      const sender = new TypingSender((on) => sent.push(on));
      sender.typed();
      assert.deepEqual(sent, [true]);
      for (let i = 0; i < 5; i += 1) {
        tick(500);
        sender.typed();
      }
      assert.deepEqual(sent, [true], '2.5 s: no repeat');
      tick(500);
      sender.typed();
      assert.deepEqual(sent, [true, true], '3 s: repeated');
    });

    it('sends false after 4 s without a keystroke', () => {
      const sent = [];
      const sender = new TypingSender((on) => sent.push(on));
      sender.typed();
      tick(3000);
      sender.typed(); // the idle wait starts again
      tick(3999);
      assert.deepEqual(sent, [true, true]);
      tick(1);
      assert.deepEqual(sent, [true, true, false]);
      tick(10_000);
      assert.deepEqual(sent, [true, true, false], 'false only once');
    });

    it('sends false at once on stop() (after sending), then true again on the next keystroke', () => {
      const sent = [];
      const sender = new TypingSender((on) => sent.push(on));
      sender.typed();
      sender.stop();
      assert.deepEqual(sent, [true, false]);
      tick(5000);
      assert.deepEqual(sent, [true, false], 'the idle timer was cancelled');
      sender.typed();
      assert.deepEqual(sent, [true, false, true], 'no 3 s wait after a stop');
    });

    it('sends nothing on stop() when not typing', () => {
      const sent = [];
      new TypingSender((on) => sent.push(on)).stop();
      assert.deepEqual(sent, []);
    });
  });

  describe('TypingIndicator', () => {
    const frame = (user_id, is_typing, user_name) => ({ user_id, user_name, is_typing });

    it('shows a typist until their false frame', () => {
      const node = { textContent: '' };
      const indicator = new TypingIndicator(node);
      indicator.update(frame('bob', true, 'Bob Byrne'));
      assert.equal(node.textContent, 'Bob Byrne is typing…');
      indicator.update(frame('bob', false, 'Bob Byrne'));
      assert.equal(node.textContent, '');
    });

    it('expires a typist 6 s after their last frame (a lost false frame)', () => {
      const node = { textContent: '' };
      const indicator = new TypingIndicator(node);
      indicator.update(frame('bob', true, 'Bob'));
      tick(4000);
      indicator.update(frame('bob', true, 'Bob')); // renewed
      tick(5999);
      assert.equal(node.textContent, 'Bob is typing…');
      tick(1);
      assert.equal(node.textContent, '');
    });

    it('shows several typists, each expiring on its own; remove() and clear() take them off', () => {
      const node = { textContent: '' };
      const indicator = new TypingIndicator(node);
      indicator.update(frame('bob', true, 'Bob'));
      tick(3000);
      indicator.update(frame(7, true, undefined)); // numeric id, no name: shown by id
      assert.equal(node.textContent, 'Bob and 7 are typing…');
      tick(3000);
      assert.equal(node.textContent, '7 is typing…');
      indicator.remove('7');
      assert.equal(node.textContent, '');
      indicator.update(frame('a', true, 'A'));
      indicator.update(frame('b', true, 'B'));
      indicator.clear();
      assert.equal(node.textContent, '');
      tick(10_000);
      assert.equal(indicator.typists.size, 0);
    });
  });

  describe('typingText', () => {
    it('names one, two or more typists', () => {
      assert.equal(typingText([]), '');
      assert.equal(typingText(['Bob Byrne']), 'Bob Byrne is typing…');
      assert.equal(typingText(['Ann Lee', 'Bob Byrne']), 'Ann Lee and Bob Byrne are typing…');
      assert.equal(typingText(['A', 'B', 'C']), 'A, B and C are typing…');
    });
  });
});
