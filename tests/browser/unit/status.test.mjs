// `#connection` and `#notice` (status.js), on plain objects standing in for the elements.

import { describe, it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';

import { ConnectionStatus, Notice } from '../../../crates/chat_http/assets/app/js/status.js';

const fakeNode = () => {
  const classes = new Set();
  return {
    dataset: {},
    textContent: '',
    classList: { add: (c) => classes.add(c), remove: (c) => classes.delete(c), contains: (c) => classes.has(c) },
  };
};

describe('status.js ConnectionStatus', () => {
  it('is "connecting" with no socket yet', () => {
    const node = fakeNode();
    new ConnectionStatus(node);
    assert.equal(node.dataset.state, 'connecting');
    assert.equal(node.textContent, '');
  });

  it('is "connected" only when every socket is open', () => {
    const node = fakeNode();
    const status = new ConnectionStatus(node);
    status.set('stream', 'open');
    status.set('room', 'connecting');
    assert.equal(node.dataset.state, 'connecting');
    status.set('room', 'open');
    assert.equal(node.dataset.state, 'connected');
    assert.equal(node.textContent, 'Connected');
  });

  it('is "reconnecting" as soon as any socket is down, whatever the others', () => {
    const node = fakeNode();
    const status = new ConnectionStatus(node);
    status.set('stream', 'open');
    status.set('room', 'connecting');
    status.set('other', 'reconnecting');
    assert.equal(node.dataset.state, 'reconnecting');
    assert.equal(node.textContent, 'Reconnecting…');
  });

  it('forgets closed sockets (a room closed while reconnecting no longer counts)', () => {
    const node = fakeNode();
    const status = new ConnectionStatus(node);
    status.set('stream', 'open');
    status.set('room', 'reconnecting');
    status.set('room', 'closed');
    assert.equal(node.dataset.state, 'connected');
    status.reset();
    assert.equal(node.dataset.state, 'connecting');
  });

  it('does not rewrite the text when the state stays the same (no repeated announcement)', () => {
    const node = fakeNode();
    const status = new ConnectionStatus(node);
    status.set('stream', 'open');
    node.textContent = 'sentinel';
    status.set('room', 'open');
    assert.equal(node.textContent, 'sentinel');
  });
});

describe('status.js Notice', () => {
  afterEach(() => mock.timers.reset());

  it('shows a message and clears it after the given time (8 s by default)', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const node = fakeNode();
    const notice = new Notice(node);
    notice.show('Could not send');
    assert.equal(node.textContent, 'Could not send');
    assert.equal(node.classList.contains('visible'), true);
    mock.timers.tick(7999);
    assert.equal(node.textContent, 'Could not send');
    mock.timers.tick(1);
    assert.equal(node.textContent, '');
    assert.equal(node.classList.contains('visible'), false);
  });

  it('a new message restarts the time', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const node = fakeNode();
    const notice = new Notice(node);
    notice.show('first', 1000);
    mock.timers.tick(900);
    notice.show('second', 1000);
    mock.timers.tick(900);
    assert.equal(node.textContent, 'second');
    mock.timers.tick(100);
    assert.equal(node.textContent, '');
  });
});
