// The credential (session.js): taken from `#token=` and removed from the address bar, kept in
// sessionStorage, the account API key (`ck_…`) recognised, and `GET /me` failures turned into
// messages for the sign-in form.
//
// session.js uses the globals `location`, `history` and `sessionStorage`: small fakes of them
// are installed on globalThis for each test.

import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  API_KEY_MESSAGE, clearCredential, isApiKey, storeCredential, storedCredential, takeCredentialFromUrl, whoAmI,
} from '../../../crates/chat_http/assets/app/js/session.js';
import { ApiError } from '../../../crates/chat_http/assets/app/js/api.js';

const KEY = 'chat.credential';

class FakeStorage {
  constructor() { this.items = new Map(); }
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
  removeItem(key) { this.items.delete(key); }
}

/** sessionStorage when the browser refuses storage (every call throws). */
const refusingStorage = {
  getItem() { throw new Error('SecurityError'); },
  setItem() { throw new Error('QuotaExceededError'); },
  removeItem() { throw new Error('SecurityError'); },
};

/** Installs location/history/sessionStorage for a page at `url`; answers the history calls. */
function page(url) {
  const { pathname, search, hash } = new URL(url);
  const replaced = [];
  globalThis.location = { pathname, search, hash };
  globalThis.history = {
    state: { keep: 'me' },
    replaceState(state, title, newUrl) {
      replaced.push({ state, title, url: newUrl });
      const next = new URL(newUrl, 'https://chat.test');
      Object.assign(globalThis.location, { pathname: next.pathname, search: next.search, hash: next.hash });
    },
  };
  globalThis.sessionStorage = new FakeStorage();
  return replaced;
}

describe('session.js takeCredentialFromUrl', () => {
  afterEach(() => {
    delete globalThis.location;
    delete globalThis.history;
    delete globalThis.sessionStorage;
  });

  it('takes #token=… , stores it for this tab and removes it from the address bar', () => {
    const replaced = page('https://chat.test/app/#token=sk_live_abc123');
    assert.equal(takeCredentialFromUrl(), 'sk_live_abc123');
    assert.deepEqual(replaced, [{ state: { keep: 'me' }, title: '', url: '/app/' }]);
    assert.equal(location.hash, '');
    assert.equal(sessionStorage.getItem(KEY), 'sk_live_abc123');
  });

  it('keeps the query string and the other fragment parameters', () => {
    const replaced = page('https://chat.test/app/?lang=fr#room=r1&token=sk_x&view=thread');
    assert.equal(takeCredentialFromUrl(), 'sk_x');
    assert.equal(replaced[0].url, '/app/?lang=fr#room=r1&view=thread');
    assert.doesNotMatch(replaced[0].url, /sk_x|token/);
  });

  it('decodes and trims the token', () => {
    page('https://chat.test/app/#token=%20eyJ.a%2Bb.c%20');
    assert.equal(takeCredentialFromUrl(), 'eyJ.a+b.c');
    assert.equal(sessionStorage.getItem(KEY), 'eyJ.a+b.c');
  });

  for (const url of ['https://chat.test/app/', 'https://chat.test/app/#room=r1', 'https://chat.test/app/#token=']) {
    it(`answers null and leaves the URL alone without a token (${new URL(url).hash || 'no fragment'})`, () => {
      const replaced = page(url);
      assert.equal(takeCredentialFromUrl(), null);
      assert.deepEqual(replaced, []);
      assert.equal(sessionStorage.getItem(KEY), null);
    });
  }

  it('still removes the token from the URL when storage is refused', () => {
    const replaced = page('https://chat.test/app/#token=sk_y');
    globalThis.sessionStorage = refusingStorage;
    assert.equal(takeCredentialFromUrl(), 'sk_y');
    assert.equal(replaced[0].url, '/app/');
  });
});

describe('session.js stored credential', () => {
  beforeEach(() => { globalThis.sessionStorage = new FakeStorage(); });
  afterEach(() => { delete globalThis.sessionStorage; });

  it('stores, reads back and clears the credential', () => {
    assert.equal(storedCredential(), null);
    storeCredential('sk_1');
    assert.equal(storedCredential(), 'sk_1');
    assert.equal(sessionStorage.getItem(KEY), 'sk_1');
    clearCredential();
    assert.equal(storedCredential(), null);
  });

  it('does not throw when storage is refused (null, nothing kept)', () => {
    globalThis.sessionStorage = refusingStorage;
    assert.doesNotThrow(() => storeCredential('sk_1'));
    assert.doesNotThrow(() => clearCredential());
    assert.equal(storedCredential(), null);
  });
});

describe('session.js isApiKey', () => {
  it('recognises the account API key by its ck_ prefix', () => {
    assert.equal(isApiKey('ck_0123456789abcdef'), true);
  });

  it('does not take user credentials for it', () => {
    for (const credential of ['sk_abc', 'eyJhbGciOiJIUzI1NiJ9.e30.x', 'uat_ck_abc', 'CK_abc', 'ck']) {
      assert.equal(isApiKey(credential), false, credential);
    }
  });
});

describe('session.js whoAmI', () => {
  const failingWith = (error) => ({ me: async () => { throw error; } });

  it('answers who the credential is', async () => {
    const me = { user_id: 'ann', user_name: 'Ann Lee' };
    assert.deepEqual(await whoAmI({ me: async () => me }), me);
  });

  it('refuses an account API key (403 NOT_A_USER) with the API key message', async () => {
    await assert.rejects(whoAmI(failingWith(new ApiError(403, 'x', 'NOT_A_USER'))), { message: API_KEY_MESSAGE });
  });

  it('says an expired credential has expired, and any other 401 was not accepted', async () => {
    await assert.rejects(whoAmI(failingWith(new ApiError(401, 'x', 'TOKEN_EXPIRED'))), /has expired/);
    await assert.rejects(whoAmI(failingWith(new ApiError(401, 'x', 'UNAUTHORIZED'))), /was not accepted/);
  });

  it('keeps the credential when the server is away or busy (0, 5xx, 429), not otherwise', async () => {
    for (const [status, keep] of [[0, true], [500, true], [503, true], [429, true], [400, false], [404, false], [403, false]]) {
      const error = await whoAmI(failingWith(new ApiError(status, 'boom', 'X'))).catch((e) => e);
      assert.equal(error.keepCredential, keep, `status ${status}`);
      assert.equal(error.message, 'Could not sign in: boom');
    }
  });

  it('lets errors that are not ApiErrors through unchanged', async () => {
    const bug = new TypeError('bug');
    await assert.rejects(whoAmI(failingWith(bug)), (e) => e === bug);
  });
});
