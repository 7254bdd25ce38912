// Mentions (mentions.js) and how they reach the `message` frame (sends.js `sendText`):
// `@user_id` or `@FirstName` of a member becomes `meta.mentions`; anything else does not.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { findMentions, firstName, mentionTokens } from '../../../crates/chat_http/assets/app/js/mentions.js';
import { RoomSends, newEchoId } from '../../../crates/chat_http/assets/app/js/sends.js';
import { RoomStore } from '../../../crates/chat_http/assets/app/js/store.js';

const PEOPLE = [
  { user_id: 'ann', user_name: 'Ann Lee' },
  { user_id: 'u_42', user_name: 'Bob Byrne' },
  { user_id: 'cy.d', user_name: 'Cyrille  Dupont' },
  { user_id: 'zoe', user_name: 'Zoë Ørsted' },
];

describe('mentions.js firstName', () => {
  it('is the first word of the name, lower-cased', () => {
    assert.equal(firstName('Bob Byrne'), 'bob');
    assert.equal(firstName('  Ann   Lee '), 'ann');
    assert.equal(firstName(undefined), '');
  });
});

describe('mentions.js findMentions', () => {
  it('recognises @user_id of a member', () => {
    assert.deepEqual(findMentions('ping @u_42 please', PEOPLE, 'ann'), ['u_42']);
  });

  it('recognises @FirstName of a member, in any case', () => {
    assert.deepEqual(findMentions('@Bob look', PEOPLE, 'ann'), ['u_42']);
    assert.deepEqual(findMentions('@BOB look', PEOPLE, 'ann'), ['u_42']);
    assert.deepEqual(findMentions('thanks @zoë!', PEOPLE, 'ann'), ['zoe']);
  });

  it('ignores names that are not members, and a surname', () => {
    assert.deepEqual(findMentions('@carol and @Byrne and @u_43', PEOPLE, 'ann'), []);
  });

  it('ignores text without @, or a bare @', () => {
    assert.deepEqual(findMentions('Bob u_42 @ @@ ', PEOPLE, 'ann'), []);
  });

  it('drops trailing punctuation after the name ("@bob." "@bob-")', () => {
    assert.deepEqual(findMentions('ask @bob. or @cyrille-', PEOPLE, 'ann'), ['u_42', 'cy.d']);
  });

  it('accepts a user_id with a dot in it', () => {
    assert.deepEqual(findMentions('cc @cy.d', PEOPLE, 'ann'), ['cy.d']);
  });

  it('does not mention myself', () => {
    assert.deepEqual(findMentions('@ann @Ann note to self', PEOPLE, 'ann'), []);
  });

  it('lists each person once, in the order first named', () => {
    assert.deepEqual(findMentions('@zoe @bob @u_42 @Zoë', PEOPLE, 'ann'), ['zoe', 'u_42']);
  });

  it('prefers a user_id over someone else\'s first name', () => {
    const people = [{ user_id: 'x1', user_name: 'Bob Smith' }, { user_id: 'bob', user_name: 'Robert Jones' }];
    assert.deepEqual(findMentions('@bob', people, 'me'), ['bob']);
  });
});

describe('mentions.js mentionTokens', () => {
  it('gives the lower-case user_ids and first names of the mentioned people', () => {
    const names = new Map(PEOPLE.map((p) => [p.user_id, p.user_name]));
    const tokens = mentionTokens(['u_42', 'gone'], (id) => names.get(id));
    assert.deepEqual([...tokens].sort(), ['bob', 'gone', 'u_42']);
    assert.equal(mentionTokens(undefined, () => undefined).size, 0);
  });
});

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('sends.js RoomSends.sendText: the message frame', () => {
  /** A RoomSends over a real store and a socket that records sendReliable. */
  function sends() {
    const reliable = [];
    const view = {
      store: new RoomStore({ user_id: 'ann', user_name: 'Ann Lee' }),
      socket: { sendReliable: (echoId, frame) => reliable.push({ echoId, frame }) },
    };
    return { roomSends: new RoomSends(view), view, reliable };
  }

  it('carries the recognised mentions as meta.mentions', () => {
    const { roomSends, reliable } = sends();
    const text = 'hi @Bob and @zoe, not @carol';
    roomSends.sendText(text, null, findMentions(text, PEOPLE, 'ann'));
    const [{ echoId, frame }] = reliable;
    assert.deepEqual(frame, { type: 'message', data: { content: text, echo_id: echoId, meta: { mentions: ['u_42', 'zoe'] } } });
  });

  it('has no meta when nobody is mentioned, and reply_to only when replying', () => {
    const { roomSends, reliable } = sends();
    roomSends.sendText('plain', null, []);
    roomSends.sendText('answer', 'm9', []);
    assert.deepEqual(Object.keys(reliable[0].frame.data).sort(), ['content', 'echo_id']);
    assert.equal(reliable[1].frame.data.reply_to, 'm9');
    assert.equal('meta' in reliable[1].frame.data, false);
  });

  it('shows the message as pending under the echo_id the frame carries', () => {
    const { roomSends, view, reliable } = sends();
    roomSends.sendText('x', 'm1', []);
    const { echoId, frame } = reliable[0];
    assert.equal(frame.data.echo_id, echoId);
    assert.equal(view.store.pending.get(echoId).content, 'x');
    assert.equal(view.store.pending.get(echoId).reply_to, 'm1');
  });

  it('retries a failed message with the same frame and echo_id', () => {
    const { roomSends, view, reliable } = sends();
    roomSends.sendText('again', null, ['u_42']);
    const { echoId, frame } = reliable[0];
    view.store.setPendingFailed(echoId, true, 'refused');
    roomSends.retry(echoId);
    assert.equal(reliable.length, 2);
    assert.equal(reliable[1].echoId, echoId);
    assert.equal(reliable[1].frame, frame);
    assert.equal(view.store.pending.get(echoId).failed, false);
  });

  it('uses a fresh UUID v4 echo_id for every message', () => {
    const { roomSends, reliable } = sends();
    roomSends.sendText('a', null, []);
    roomSends.sendText('a', null, []);
    assert.notEqual(reliable[0].echoId, reliable[1].echoId);
    assert.match(newEchoId(), UUID_V4);
  });

  it('makes a UUID v4 from getRandomValues where randomUUID is missing (not a secure context)', () => {
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true });
    try {
      const ids = Array.from({ length: 50 }, newEchoId);
      for (const id of ids) assert.match(id, UUID_V4);
      assert.equal(new Set(ids).size, ids.length);
    } finally {
      delete crypto.randomUUID; // back to Crypto.prototype.randomUUID
    }
    assert.equal(typeof crypto.randomUUID, 'function');
  });
});
