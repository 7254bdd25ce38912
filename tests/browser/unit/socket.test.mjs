// The reconnecting WebSocket (socket.js): backoff with jitter, the close codes that end it,
// keep-alive, and the outbox that re-sends unacknowledged messages with the same echo_id.
//
// LiveSocket uses the global `WebSocket` and `window` ('online' events): a fake WebSocket
// class and an EventTarget stand in for them; timers and Date are node:test's mock timers;
// Math.random is pinned so that the backoff delays are exact.

import { describe, it, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';

import { backoffDelay, LiveSocket } from '../../../crates/chat_http/assets/app/js/socket.js';

/** A WebSocket whose server side the test plays. */
class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  /** Every socket made, oldest first. */
  static made = [];

  constructor(url) {
    this.url = url;
    this.readyState = FakeWebSocket.CONNECTING;
    /** Frames the client sent, parsed. */
    this.sent = [];
    /** The client's close(code, reason), if it closed. */
    this.closedWith = null;
    FakeWebSocket.made.push(this);
  }

  send(text) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('InvalidStateError: not open');
    this.sent.push(JSON.parse(text));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }

  // The server's side.
  /** Opens and says hello (`connection_status`), which makes the LiveSocket ready. */
  accept() {
    this.readyState = FakeWebSocket.OPEN;
    this.receive({ type: 'connection_status', data: { online_users: [] } });
  }
  receive(frame) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
  serverClose(code, reason = '') {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason });
  }
  /** The `message` frames sent, as their echo_ids. */
  get sentEchoIds() {
    return this.sent.filter((f) => f.type === 'message').map((f) => f.data.echo_id);
  }
}

const T0 = 1_700_000_000_000;
const messageFrame = (echoId, content = 'hi') => ({ type: 'message', data: { content, echo_id: echoId } });

/** Sockets made so far, and the newest. */
const made = () => FakeWebSocket.made.length;
const latest = () => FakeWebSocket.made.at(-1);
const tick = (ms) => mock.timers.tick(ms);

let live;

/** A started LiveSocket recording what it reports. */
function startSocket(extra = {}) {
  const log = { states: [], frames: [], ready: [], final: [], failed: [] };
  live = new LiveSocket({
    url: () => 'ws://chat.test/ws/room',
    onFrame: (frame) => log.frames.push(frame),
    onState: (state) => log.states.push(state),
    onReady: (info) => log.ready.push(info),
    onFinal: (code, reason) => log.final.push({ code, reason }),
    onSendFailed: (echoId, error) => log.failed.push({ echoId, ...error }),
    ...extra,
  });
  live.start();
  return log;
}

describe('socket.js backoffDelay', () => {
  afterEach(() => mock.restoreAll());

  it('doubles from 0.5 s and is capped at 8 s (no jitter at the middle of the range)', () => {
    mock.method(Math, 'random', () => 0.5);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 10, 50].map(backoffDelay), [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
  });

  it('jitters down to 75 % of the base', () => {
    mock.method(Math, 'random', () => 0);
    assert.deepEqual([0, 1, 2, 3, 4, 9].map(backoffDelay), [375, 750, 1500, 3000, 6000, 6000]);
  });

  it('jitters up to 125 % of the base, but never past 8 s', () => {
    mock.method(Math, 'random', () => 0.999999);
    assert.deepEqual([0, 1, 2, 3, 4, 9].map(backoffDelay), [625, 1250, 2500, 5000, 8000, 8000]);
  });

  it('stays within [0.75, 1.25] × base (≤ 8 s) and actually varies, with real randomness', () => {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const base = Math.min(8000, 500 * 2 ** attempt);
      const delays = Array.from({ length: 400 }, () => backoffDelay(attempt));
      const low = Math.min(...delays);
      const high = Math.max(...delays);
      assert.ok(low >= Math.round(base * 0.75), `attempt ${attempt}: ${low} < 75 % of ${base}`);
      assert.ok(high <= Math.min(8000, Math.round(base * 1.25)), `attempt ${attempt}: ${high} above bound`);
      assert.ok(high > low, `attempt ${attempt}: no jitter`);
      assert.ok(delays.every(Number.isInteger), 'whole milliseconds');
    }
  });
});

describe('socket.js LiveSocket', () => {
  beforeEach(() => {
    FakeWebSocket.made = [];
    globalThis.WebSocket = FakeWebSocket;
    globalThis.window = new EventTarget();
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: T0 });
    mock.method(Math, 'random', () => 0.5); // backoff = exactly 500 ms × 2^attempt
  });
  afterEach(() => {
    live?.stop();
    live = undefined;
    mock.timers.reset();
    mock.restoreAll();
    delete globalThis.WebSocket;
    delete globalThis.window;
  });

  describe('connecting', () => {
    it('is open only after the server\'s connection_status, and reports every frame', () => {
      const log = startSocket();
      assert.equal(made(), 1);
      assert.equal(latest().url, 'ws://chat.test/ws/room');
      assert.equal(live.isOpen, false);
      assert.deepEqual(log.states, ['connecting']);
      latest().accept();
      assert.equal(live.isOpen, true);
      assert.deepEqual(log.states, ['connecting', 'open']);
      assert.deepEqual(log.ready, [{ reconnected: false }]);
      latest().receive({ type: 'typing', data: { user_id: 'bob', is_typing: true } });
      assert.deepEqual(log.frames.map((f) => f.type), ['connection_status', 'typing']);
    });

    it('ignores a frame that is not JSON', () => {
      const log = startSocket();
      latest().accept();
      latest().receive('not json {');
      assert.equal(log.frames.length, 1);
      assert.equal(live.isOpen, true);
    });

    it('asks url() again for every attempt (so since_seq can move)', () => {
      let sinceSeq = 0;
      startSocket({ url: () => `ws://chat.test/ws/room?since_seq=${sinceSeq}` });
      latest().accept();
      sinceSeq = 42;
      latest().serverClose(1006);
      tick(500);
      assert.equal(latest().url, 'ws://chat.test/ws/room?since_seq=42');
    });

    it('start() twice opens one socket', () => {
      startSocket();
      live.start();
      assert.equal(made(), 1);
    });
  });

  describe('reconnecting', () => {
    it('waits 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s between failed attempts', () => {
      const log = startSocket();
      for (const delay of [500, 1000, 2000, 4000, 8000, 8000]) {
        const before = made();
        latest().serverClose(1006);
        assert.equal(live.state, 'reconnecting');
        tick(delay - 1);
        assert.equal(made(), before, `no attempt before ${delay} ms`);
        tick(1);
        assert.equal(made(), before + 1, `an attempt at ${delay} ms`);
      }
      assert.ok(log.states.includes('reconnecting'));
    });

    it('starts again from 0.5 s after a connection succeeds, and says it reconnected', () => {
      const log = startSocket();
      latest().serverClose(1006);
      tick(500);
      latest().serverClose(1006);
      tick(1000);
      latest().accept();
      latest().serverClose(1006);
      tick(499);
      assert.equal(made(), 3);
      tick(1);
      assert.equal(made(), 4);
      latest().accept();
      assert.deepEqual(log.ready, [{ reconnected: false }, { reconnected: true }]);
    });

    for (const code of [1000, 1001, 1006, 1011, 4000, 4004, 4029]) {
      it(`reconnects after close code ${code}`, () => {
        const log = startSocket();
        latest().accept();
        latest().serverClose(code, 'bye');
        tick(500);
        assert.equal(made(), 2);
        assert.deepEqual(log.final, []);
      });
    }

    for (const code of [4001, 4002, 4003]) {
      it(`stops for good after close code ${code} and reports it`, () => {
        const log = startSocket();
        latest().accept();
        latest().serverClose(code, 'refused');
        assert.equal(live.state, 'closed');
        assert.deepEqual(log.final, [{ code, reason: 'refused' }]);
        tick(120_000);
        assert.equal(made(), 1, 'no new attempt');
      });
    }

    it('stops for good on a final code even before connection_status', () => {
      const log = startSocket();
      latest().serverClose(4001, 'credential refused');
      tick(60_000);
      assert.equal(made(), 1);
      assert.equal(log.final.length, 1);
    });

    it('retries after a failing constructor (bad URL) with the same backoff', () => {
      let calls = 0;
      startSocket({ url: () => { calls += 1; if (calls === 1) throw new Error('SyntaxError'); return 'ws://chat.test/ok'; } });
      assert.equal(made(), 0);
      assert.equal(live.state, 'reconnecting');
      tick(500);
      assert.equal(made(), 1);
    });

    it('reconnects at once when the browser comes back online', () => {
      startSocket();
      latest().accept();
      latest().serverClose(1006);
      latest().serverClose(1006); // a duplicate close of the same socket changes nothing
      tick(500);
      latest().serverClose(1006); // next wait: 1 s
      window.dispatchEvent(new Event('online'));
      assert.equal(made(), 3, 'no waiting for the backoff');
      tick(1000);
      assert.equal(made(), 3, 'the pending retry was cancelled');
    });

    it('does not reconnect after stop(), and closes the socket with 1000', () => {
      startSocket();
      const ws = latest();
      ws.accept();
      live.stop();
      assert.equal(live.state, 'closed');
      assert.deepEqual(ws.closedWith, { code: 1000, reason: 'closed by the client' });
      ws.serverClose(1006);
      tick(60_000);
      assert.equal(made(), 1);
    });
  });

  describe('keep-alive', () => {
    it('pings every 20 s while open', () => {
      startSocket();
      latest().accept();
      tick(19_999);
      assert.equal(latest().sent.filter((f) => f.type === 'ping').length, 0);
      tick(1);
      assert.deepEqual(latest().sent, [{ type: 'ping' }]);
      latest().receive({ type: 'pong' });
      tick(20_000);
      assert.equal(latest().sent.filter((f) => f.type === 'ping').length, 2);
    });

    it('drops a connection silent for 45 s (code 4000) and reconnects', () => {
      startSocket();
      const ws = latest();
      ws.accept();
      tick(40_000);
      assert.equal(ws.closedWith, null);
      tick(5_000);
      assert.equal(ws.closedWith?.code, 4000);
      assert.equal(live.state, 'reconnecting');
      tick(500);
      assert.equal(made(), 2);
    });

    it('any frame keeps the connection alive', () => {
      startSocket();
      const ws = latest();
      ws.accept();
      for (let i = 0; i < 6; i += 1) {
        tick(30_000);
        ws.receive({ type: 'pong' });
      }
      assert.equal(ws.closedWith, null);
      assert.equal(made(), 1);
    });
  });

  describe('outbox', () => {
    it('send() drops frames while not open (typing, read, ping are not queued)', () => {
      startSocket();
      assert.equal(live.send({ type: 'typing', data: { is_typing: true } }), false);
      latest().accept();
      assert.deepEqual(latest().sent, []);
      assert.equal(live.send({ type: 'read', data: { last_read_seq: 3 } }), true);
      assert.deepEqual(latest().sent, [{ type: 'read', data: { last_read_seq: 3 } }]);
    });

    it('sends a reliable message at once when open', () => {
      startSocket();
      latest().accept();
      live.sendReliable('e1', messageFrame('e1'));
      assert.deepEqual(latest().sent, [messageFrame('e1')]);
    });

    it('queues reliable messages while connecting and sends them, in order, when ready', () => {
      startSocket();
      live.sendReliable('e1', messageFrame('e1', 'first'));
      live.sendReliable('e2', messageFrame('e2', 'second'));
      assert.deepEqual(latest().sent, []);
      latest().accept();
      assert.deepEqual(latest().sent, [messageFrame('e1', 'first'), messageFrame('e2', 'second')]);
    });

    it('re-sends an unacknowledged message, unchanged (same echo_id), after every reconnect', () => {
      startSocket();
      latest().accept();
      live.sendReliable('e1', messageFrame('e1', 'hello'));
      latest().serverClose(1006);
      tick(500);
      latest().accept();
      assert.deepEqual(latest().sent, [messageFrame('e1', 'hello')]);
      latest().serverClose(1006);
      tick(500);
      latest().accept();
      assert.deepEqual(latest().sent, [messageFrame('e1', 'hello')]);
    });

    it('does not re-send a message once acknowledged', () => {
      startSocket();
      latest().accept();
      live.sendReliable('e1', messageFrame('e1'));
      live.sendReliable('e2', messageFrame('e2'));
      latest().receive({ type: 'ack', data: { echo_id: 'e1', message: { id: 'm1', seq: 1 } } });
      latest().serverClose(1006);
      tick(500);
      latest().accept();
      assert.deepEqual(latest().sentEchoIds, ['e2']);
    });

    it('does not re-send a forgotten message', () => {
      startSocket();
      live.sendReliable('e1', messageFrame('e1'));
      live.forget('e1');
      latest().accept();
      assert.deepEqual(latest().sent, []);
    });

    it('retries in-flight messages with the same echo_id 1.5 s after a transient error', () => {
      const log = startSocket();
      latest().accept();
      live.sendReliable('e1', messageFrame('e1'));
      latest().receive({ type: 'error', data: { code: 'rate_limited', message: 'slow down' } });
      tick(1499);
      assert.deepEqual(latest().sentEchoIds, ['e1']);
      tick(1);
      assert.deepEqual(latest().sentEchoIds, ['e1', 'e1']);
      assert.deepEqual(log.failed, []);
    });

    it('fails the oldest in-flight message on a refusal, and forgets it', () => {
      const log = startSocket();
      latest().accept();
      live.sendReliable('e1', messageFrame('e1'));
      live.sendReliable('e2', messageFrame('e2'));
      latest().receive({ type: 'error', data: { code: 'forbidden', message: 'not a member' } });
      assert.deepEqual(log.failed, [{ echoId: 'e1', code: 'forbidden', message: 'not a member' }]);
      latest().serverClose(1006);
      tick(500);
      latest().accept();
      assert.deepEqual(latest().sentEchoIds, ['e2'], 'the refused message is not sent again');
    });

    it('ignores error frames when no message is waiting (a refused typing or read frame)', () => {
      const log = startSocket();
      latest().accept();
      latest().receive({ type: 'error', data: { code: 'forbidden', message: 'x' } });
      live.sendReliable('e1', messageFrame('e1'));
      latest().receive({ type: 'ack', data: { echo_id: 'e1' } });
      latest().receive({ type: 'error', data: { code: 'invalid_data', message: 'x' } });
      assert.deepEqual(log.failed, []);
    });
  });
});
