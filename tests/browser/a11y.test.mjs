// Accessibility: axe-core on the sign-in page and on the signed-in page with a room open. Any
// violation is printed; one of impact serious or critical fails the test.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, user } from './lib/env.mjs';
import { launchBrowser, newPerson, screenshots } from './lib/browser.mjs';
import { waitForLocator } from './lib/wait.mjs';
import { signInWithLink, openRoom, messages } from './lib/chat.mjs';
import { runAxe, blocking } from './lib/axe.mjs';

const STEP = { timeout: 60_000 };

function summary(violations) {
  return violations.map((v) => `[${v.impact}] ${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`).join('\n');
}

describe('accessibility (axe-core)', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('the sign-in page has no serious or critical violation', STEP, async () => {
    const { context, page } = await newPerson(browser, 'visitor');
    try {
      await page.goto(`${BASE_URL}/app/`, { waitUntil: 'domcontentloaded' });
      await waitForLocator(page.locator('form#signin'), 'visible', { message: 'the sign-in form' });
      const violations = await runAxe(page, 'signin');
      assert.deepEqual(blocking(violations).map((v) => v.id), [], summary(blocking(violations)));
    } finally {
      await screenshots('axe-signin', { visitor: page }, { first: 60 });
      await context.close();
    }
  });

  it('the signed-in page with General open has no serious or critical violation', STEP, async () => {
    const cat = user('cat');
    const { context, page } = await newPerson(browser, 'cat');
    try {
      await signInWithLink(page, cat.link, cat.name);
      await openRoom(page, 'General');
      // The demo's history is shown (messages, a reply, a reaction) before axe looks.
      await waitForLocator(page.locator('#messages li.message').first(), 'visible', { message: "General's history" });
      console.log(`General shows ${(await messages(page)).length} messages`);
      // Both looks are printed before either is judged.
      const violations = await runAxe(page, 'room');

      // The emoji picker, open, is part of the page too.
      const item = page.locator('#messages li.message').last();
      await item.hover();
      await item.locator('.action-react').click();
      await waitForLocator(page.locator('.emoji-picker button[data-emoji]').first(), 'visible', {
        message: 'the emoji picker',
      });
      const pickerViolations = await runAxe(page, 'emoji-picker');
      assert.deepEqual(blocking(violations).map((v) => v.id), [], `room: ${summary(blocking(violations))}`);
      assert.deepEqual(
        blocking(pickerViolations).map((v) => v.id),
        [],
        `with the emoji picker open: ${summary(blocking(pickerViolations))}`,
      );
    } finally {
      await screenshots('axe-room', { cat: page });
      await context.close();
    }
  });
});
