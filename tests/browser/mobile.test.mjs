// Phone width (390 × 844): the rooms are a drawer toggled by #toggle-rooms, and the composer
// still sends.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_TAG, user } from './lib/env.mjs';
import { launchBrowser, newPerson, screenshots } from './lib/browser.mjs';
import { waitFor, waitForLocator } from './lib/wait.mjs';
import { signInWithLink, roomButton, waitForConnected, waitForMessage, send, onScreen } from './lib/chat.mjs';

const STEP = { timeout: 60_000 };

describe('phone width', () => {
  let browser;
  let context;
  let page;
  const cat = user('cat');
  const shot = (step, first) => screenshots(step, { cat: page }, first === undefined ? {} : { first });
  const drawer = () => page.locator('nav[aria-label="Rooms"]');
  const drawerOpen = async () => (await onScreen(drawer())) && (await onScreen(roomButton(page, 'Random')));
  // A control is usable when a tap at its centre reaches it (nothing drawn over it).
  const covering = (locator) =>
    locator.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      if (hit && (hit === el || el.contains(hit))) return null;
      if (!hit) return 'nothing (off screen)';
      const classes = typeof hit.className === 'string' && hit.className ? `.${hit.className.trim().split(/\s+/).join('.')}` : '';
      const owner = hit.closest('[id]');
      return `${hit.tagName.toLowerCase()}${hit.id ? `#${hit.id}` : ''}${classes}${owner && owner !== hit ? ` inside #${owner.id}` : ''}`;
    });
  const clickToggle = async (why) => {
    const toggle = page.locator('button#toggle-rooms');
    const over = await covering(toggle);
    assert.equal(over, null, `button#toggle-rooms must be reachable to ${why}, but ${over} covers it`);
    await toggle.click();
  };
  const noSideScroll = () =>
    page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);

  before(async () => {
    browser = await launchBrowser();
    ({ context, page } = await newPerson(browser, 'cat', {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    }));
  });
  after(async () => {
    await context?.close();
    await browser?.close();
  });

  it('#toggle-rooms opens and closes the rooms drawer', STEP, async () => {
    const toggle = page.locator('button#toggle-rooms');
    try {
      await signInWithLink(page, cat.link, cat.name);
      await waitForLocator(toggle, 'visible', { message: 'button#toggle-rooms at 390 px' });
      assert.match((await toggle.textContent()) || (await toggle.getAttribute('aria-label')) || '', /Rooms/);
      if (await drawerOpen()) {
        await shot('drawer-open-at-start', 80);
        await clickToggle('close the drawer');
        await waitFor(async () => !(await drawerOpen()), { message: 'the rooms drawer to close' });
      }
      await shot('drawer-closed', 80);
      await clickToggle('open the drawer');
      await waitFor(drawerOpen, { message: 'the rooms drawer (nav[aria-label=Rooms]) on screen after #toggle-rooms' });
      await shot('drawer-opened');
      await clickToggle('close the drawer');
      await waitFor(async () => !(await drawerOpen()), { message: 'the rooms drawer off screen after #toggle-rooms again' });
      await shot('drawer-closed-again');
    } catch (error) {
      await shot('drawer-failed');
      throw error;
    }
  });

  it('a room picked from the drawer can be read and written to at 390 px', STEP, async () => {
    const text = `From my phone (${RUN_TAG}-m)`;
    try {
      if (!(await drawerOpen())) {
        await clickToggle('open the drawer');
        await waitFor(drawerOpen, { message: 'the rooms drawer to open' });
      }
      await roomButton(page, 'Random').click();
      await waitFor(async () => (await roomButton(page, 'Random').getAttribute('aria-current')) === 'page', {
        message: 'Random to be the open room',
      });
      // The drawer may close itself on a pick; if not, close it.
      if (await drawerOpen()) {
        await clickToggle('close the drawer');
        await waitFor(async () => !(await drawerOpen()), { message: 'the rooms drawer to close' });
      }
      await waitFor(async () => (await page.locator('#room-title').textContent())?.includes('Random'), {
        message: '#room-title "Random"',
      });
      assert.ok(await onScreen(page.locator('#room-title')), 'the room title is on screen');
      await waitForConnected(page);
      const input = page.locator('#message-input');
      assert.ok(await onScreen(input), 'the composer is on screen');
      await send(page, text, { typed: true });
      const stored = await waitForMessage(page, text, { own: true });
      assert.equal(stored.sender, 'cat');
      assert.ok(await onScreen(page.locator(`#messages li.message[data-id="${stored.id}"]`)), 'the sent message is on screen');
      assert.ok(await noSideScroll(), 'no horizontal scrolling at 390 px');
    } finally {
      await shot('phone-sent');
    }
  });
});
