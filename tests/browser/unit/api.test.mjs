// HTTP access (api.js): errors of both dialects as one readable ApiError, the credential as a
// Bearer header (never in an HTTP URL), paging, and the socket URLs. `fetch` is replaced by a
// recording fake; `location` by a plain object.

import { describe, it, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';

import { Api, ApiError, describeError } from '../../../crates/chat_http/assets/app/js/api.js';

describe('api.js describeError', () => {
  it('reads the ChatAPI shape {error: {code, message}}', () => {
    const body = { error: { code: 'NOT_FOUND', message: 'Room not found' }, status: 'error' };
    assert.deepEqual(describeError(404, body), { message: 'Room not found', code: 'NOT_FOUND' });
  });

  it('reads the account shapes {error: "…"} and {message: "…"}', () => {
    assert.deepEqual(describeError(422, { error: 'Invalid room' }), { message: 'Invalid room', code: null });
    assert.deepEqual(describeError(422, { message: 'Name is too long', attributes: ['name'] }), { message: 'Name is too long', code: null });
  });

  it('falls back to the status when the body says nothing', () => {
    assert.deepEqual(describeError(502, null), { message: 'The server answered 502.', code: null });
    assert.deepEqual(describeError(500, { error: { code: 'X' } }), { message: 'The server answered 500.', code: 'X' });
  });

  it('says when to try again on 429, from Retry-After', () => {
    const body = { error: { code: 'RATE_LIMITED', message: 'rate limited' } };
    assert.deepEqual(describeError(429, body, new Headers({ 'Retry-After': '7' })), { message: 'Too many requests: try again in 7 s.', code: 'RATE_LIMITED' });
    assert.equal(describeError(429, null, new Headers()).message, 'Too many requests: try again shortly.');
    assert.equal(describeError(429, null).message, 'Too many requests: try again shortly.');
  });
});

describe('api.js Api', () => {
  let calls;
  /** Makes fetch answer `status` with `body` (JSON unless a string). */
  function answer(status, body, headers = {}) {
    mock.method(globalThis, 'fetch', async (url, init) => {
      calls.push({ url, init });
      const text = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body);
      return new Response(text, { status, headers });
    });
  }

  beforeEach(() => {
    calls = [];
    globalThis.location = { protocol: 'https:', host: 'chat.test' };
  });
  afterEach(() => {
    mock.restoreAll();
    delete globalThis.location;
  });

  it('sends the credential as a Bearer header, never in the URL, with no cookies', async () => {
    answer(200, { data: { user_id: 'ann' } });
    const me = await new Api('sk_secret').me();
    assert.deepEqual(me, { user_id: 'ann' });
    const [{ url, init }] = calls;
    assert.equal(url, '/api/v1/me');
    assert.equal(init.headers.Authorization, 'Bearer sk_secret');
    assert.equal(init.credentials, 'omit');
    assert.doesNotMatch(url, /sk_secret/);
  });

  it('puts defined query values in the URL and leaves out undefined ones', async () => {
    answer(200, { data: [], pagination: { has_more: false } });
    await new Api('k').messages('r1', { limit: 20 });
    assert.equal(calls[0].url, '/api/v1/rooms/r1/messages/?limit=20');
    await new Api('k').messages('r1', { beforeSeq: 40, limit: 20 });
    assert.equal(calls[1].url, '/api/v1/rooms/r1/messages/?limit=20&before_seq=40');
  });

  it('sends a JSON body with its content type', async () => {
    answer(200, { data: { id: 'm1' } });
    await new Api('k').addReaction('m1', '👍');
    assert.equal(calls[0].init.method, 'POST');
    assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
    assert.deepEqual(JSON.parse(calls[0].init.body), { emoji: '👍' });
  });

  it('escapes the emoji in the reaction URL', async () => {
    answer(200, { data: {} });
    await new Api('k').removeReaction('m1', '❤️');
    assert.equal(calls[0].url, `/api/v1/messages/m1/reactions/${encodeURIComponent('❤️')}`);
  });

  it('takes hasMore from the pagination, else from a full page', async () => {
    answer(200, { data: [{ id: 'a' }], pagination: { has_more: true } });
    assert.equal((await new Api('k').messages('r', { limit: 50 })).hasMore, true);
    answer(200, { data: [{ id: 'a' }, { id: 'b' }] });
    assert.equal((await new Api('k').messages('r', { limit: 2 })).hasMore, true);
    answer(200, { data: [{ id: 'a' }] });
    assert.equal((await new Api('k').messages('r', { limit: 2 })).hasMore, false);
  });

  it('turns an error answer into an ApiError with status, message and code', async () => {
    answer(404, { error: { code: 'NOT_FOUND', message: 'No such room' }, status: 'error' });
    const error = await new Api('k').participants('r').catch((e) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 404);
    assert.equal(error.message, 'No such room');
    assert.equal(error.code, 'NOT_FOUND');
  });

  it('calls onUnauthorized on a 401 only', async () => {
    const seen = [];
    const api = new Api('k', { onUnauthorized: (e) => seen.push(e.status) });
    answer(403, { error: { code: 'FORBIDDEN', message: 'no' } });
    await assert.rejects(api.me());
    answer(401, { error: { code: 'TOKEN_EXPIRED', message: 'expired' } });
    await assert.rejects(api.me(), { status: 401, code: 'TOKEN_EXPIRED' });
    assert.deepEqual(seen, [401]);
  });

  it('answers null for an empty or non-JSON body, and status 0 when the server is unreachable', async () => {
    answer(204, undefined);
    assert.equal(await new Api('k').request('DELETE', '/x'), null);
    answer(200, '<html>');
    assert.equal(await new Api('k').request('GET', '/x'), null);
    mock.method(globalThis, 'fetch', async () => { throw new TypeError('fetch failed'); });
    await assert.rejects(new Api('k').me(), { name: 'ApiError', status: 0 });
  });

  it('builds socket URLs on the page\'s host: wss on https, ws on http, credential as ?token=', () => {
    const api = new Api('sk/+ x');
    assert.equal(api.roomSocketUrl('r1', 12), 'wss://chat.test/ws/r1?token=sk%2F%2B+x&since_seq=12');
    globalThis.location = { protocol: 'http:', host: 'localhost:8080' };
    assert.equal(api.streamUrl(7), 'ws://localhost:8080/api/v1/accounts/7/ws?token=sk%2F%2B+x');
    assert.equal(new URL(api.roomSocketUrl('r1', 0)).searchParams.get('since_seq'), '0');
  });
});
