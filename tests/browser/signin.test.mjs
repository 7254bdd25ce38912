// Signing in: the demo link's token leaves the URL, the form takes a user credential, and an
// account API key is refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, demo, user } from './lib/env.mjs';
import { launchBrowser, newPerson, screenshots } from './lib/browser.mjs';
import { waitFor, waitForLocator } from './lib/wait.mjs';
import { signInWithLink } from './lib/chat.mjs';

const STEP = { timeout: 60_000 };
const APP = `${BASE_URL}/app/`;

describe('signing in', () => {
  let browser;
  let first = 40;
  const shot = async (step, pages) => {
    await screenshots(step, pages, first !== undefined ? { first } : {});
    first = undefined;
  };

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  async function credentialStored(page) {
    return page.evaluate(() => sessionStorage.getItem('chat.credential'));
  }

  it('the demo link signs in and leaves no token in location.href nor in any request URL', STEP, async () => {
    const ann = user('ann');
    const { context, page } = await newPerson(browser, 'ann');
    const requested = [];
    page.on('request', (request) => requested.push(request.url()));
    try {
      await signInWithLink(page, ann.link, ann.name);
      await waitFor(async () => !(await page.evaluate(() => location.href)).includes(ann.token), {
        message: 'the token to be gone from location.href',
      });
      const href = await page.evaluate(() => location.href);
      assert.ok(!href.includes('token='), `no token= in ${href}`);
      assert.ok(href.startsWith(`${BASE_URL}/app`), `still on the app (${href})`);
      assert.equal(await credentialStored(page), ann.token, 'the credential is kept in sessionStorage["chat.credential"]');
      const leaked = requested.filter((url) => url.includes(ann.token));
      assert.deepEqual(leaked, [], 'no HTTP request carries the token in its URL');
      await shot('link-signed-in', { ann: page });

      // A reload keeps the session (sessionStorage), still without the token in the URL.
      await page.reload({ waitUntil: 'domcontentloaded' });
      await waitFor(async () => (await page.locator('#me').textContent({ timeout: 500 }))?.includes(ann.name), {
        message: `#me to show "${ann.name}" after a reload`,
      });
      assert.ok(!page.url().includes(ann.token));
    } finally {
      await shot('link-reloaded', { ann: page });
      await context.close();
    }
  });

  it('an account API key typed into the sign-in form is refused with a message in #signin-error', STEP, async () => {
    assert.match(demo.api_key, /^ck_/, "the demo's api_key is an account API key");
    const { context, page } = await newPerson(browser, 'visitor');
    try {
      await page.goto(APP, { waitUntil: 'domcontentloaded' });
      await waitForLocator(page.locator('form#signin'), 'visible', { message: 'the sign-in form' });
      await page.getByLabel('Credential', { exact: true }).fill(demo.api_key);
      await page.locator('form#signin').getByRole('button', { name: 'Sign in' }).click();
      const error = page.locator('#signin-error');
      await waitFor(async () => /API key/i.test((await error.textContent({ timeout: 500 })) || '') && (await error.isVisible()), {
        message: '#signin-error to say the API key must not be used in a browser',
      });
      const text = (await error.textContent()).trim();
      console.log(`#signin-error: ${text}`);
      assert.match(text, /never be used in a browser/i);
      assert.equal(await error.getAttribute('role'), 'alert', '#signin-error has role=alert');
      assert.notEqual(await credentialStored(page), demo.api_key, 'the API key is not kept');
      assert.ok(await page.locator('form#signin').isVisible(), 'still on the sign-in form');
      assert.ok(!page.url().includes(demo.api_key));
    } finally {
      await shot('api-key-refused', { visitor: page });
      await context.close();
    }
  });

  it('a bad credential is refused with a message', STEP, async () => {
    const { context, page } = await newPerson(browser, 'visitor');
    try {
      await page.goto(APP, { waitUntil: 'domcontentloaded' });
      await page.getByLabel('Credential', { exact: true }).fill('sk_not_a_real_credential');
      await page.locator('form#signin').getByRole('button', { name: 'Sign in' }).click();
      const error = page.locator('#signin-error');
      await waitFor(async () => ((await error.textContent({ timeout: 500 })) || '').trim() !== '' && (await error.isVisible()), {
        message: '#signin-error to show a message for a bad credential',
      });
      console.log(`#signin-error: ${(await error.textContent()).trim()}`);
      assert.ok(await page.locator('form#signin').isVisible(), 'still on the sign-in form');
    } finally {
      await shot('bad-credential', { visitor: page });
      await context.close();
    }
  });

  it("a user's credential typed into the form signs in; Sign out returns to the form", STEP, async () => {
    const bob = user('bob');
    const { context, page } = await newPerson(browser, 'bob');
    try {
      await page.goto(APP, { waitUntil: 'domcontentloaded' });
      await page.getByLabel('Credential', { exact: true }).fill(bob.token);
      await page.locator('form#signin').getByRole('button', { name: 'Sign in' }).click();
      await waitFor(async () => (await page.locator('#me').textContent({ timeout: 500 }))?.includes(bob.name), {
        message: `#me to show "${bob.name}"`,
      });
      assert.ok(!page.url().includes(bob.token), 'the credential is not in the URL');
      await waitForLocator(page.locator('#rooms button.room').first(), 'visible', { message: 'the room list' });
      await shot('form-signed-in', { bob: page });

      await page.locator('button#signout').click();
      await waitForLocator(page.locator('form#signin'), 'visible', { message: 'the sign-in form after signing out' });
      assert.equal(await credentialStored(page), null, 'the credential is forgotten');
    } finally {
      await shot('signed-out', { bob: page });
      await context.close();
    }
  });
});
