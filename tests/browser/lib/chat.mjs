// The client's DOM contract (docs: the web client's brief), as helpers the tests share.
import { room } from './env.mjs';
import { waitFor, waitForLocator } from './wait.mjs';

/** Opens the demo link (optionally through another origin) and waits until `#me` shows the name. */
export async function signInWithLink(page, link, name) {
  await page.goto(link, { waitUntil: 'domcontentloaded' });
  await waitFor(async () => (await page.locator('#me').textContent({ timeout: 500 }))?.includes(name), {
    message: `#me to show "${name}" after opening the demo link`,
  });
}

/** The sidebar button of a demo room (by its ChatAPI id). */
export function roomButton(page, name) {
  return page.locator(`#rooms button.room[data-room-id="${room(name).id}"]`);
}

/** Clicks a room in the sidebar and waits until it is the open one and its socket is connected. */
export async function openRoom(page, name) {
  const button = roomButton(page, name);
  await waitForLocator(button, 'visible', { message: `the room button for "${name}" (data-room-id=${room(name).id})` });
  const label = await button.locator('.room-name').textContent();
  if (!label?.includes(name)) throw new Error(`room button ${room(name).id} is named "${label}", expected "${name}"`);
  await button.click();
  await waitFor(async () => (await button.getAttribute('aria-current')) === 'page', {
    message: `the "${name}" room button to get aria-current="page"`,
  });
  await waitFor(async () => (await page.locator('#room-title').textContent())?.includes(name), {
    message: `h2#room-title to show "${name}"`,
  });
  await waitForConnected(page);
}

export async function connectionState(page) {
  return page.locator('#connection').getAttribute('data-state', { timeout: 1000 });
}

export async function waitForConnected(page, { timeout } = {}) {
  await waitFor(async () => (await connectionState(page)) === 'connected', {
    timeout,
    message: `#connection[data-state="connected"] on ${page.label}'s page`,
  });
}

/** Every `li.message` in a list (default `#messages`), in DOM order, as plain data. */
export async function messages(page, list = '#messages') {
  return page.evaluate((listSelector) => {
    const items = document.querySelectorAll(`${listSelector} li.message`);
    return [...items].map((li) => {
      const ticks = li.querySelector('.ticks');
      return {
        id: li.dataset.id || null,
        seq: li.dataset.seq !== undefined && li.dataset.seq !== '' ? Number(li.dataset.seq) : null,
        echoId: li.dataset.echoId || null,
        sender: li.dataset.senderId || null,
        own: li.dataset.own || null,
        pending: li.dataset.pending === 'true',
        content: (li.querySelector('.content')?.textContent || '').trim(),
        status: ticks ? ticks.dataset.status || null : null,
        ticksLabel: ticks ? ticks.getAttribute('aria-label') : null,
      };
    });
  }, list);
}

/** The messages whose `.content` contains `text`. */
export async function messagesWith(page, text, list) {
  return (await messages(page, list)).filter((m) => m.content.includes(text));
}

/** Waits until exactly one stored (not pending, with data-id and data-seq) message contains `text`; returns it. */
export async function waitForMessage(page, text, { timeout, list, own } = {}) {
  return waitFor(
    async () => {
      const found = (await messagesWith(page, text, list)).filter((m) => m.id && m.seq !== null && !m.pending);
      if (found.length !== 1) return null;
      if (own !== undefined && found[0].own !== String(own)) return null;
      return found[0];
    },
    { timeout, message: `${page.label}'s page to show the message "${text}" once, stored (data-id, data-seq)` },
  );
}

/** Types `text` into the composer and presses Enter. */
export async function send(page, text, { typed = false } = {}) {
  const input = page.locator('#message-input');
  if (typed) {
    await input.click();
    await input.pressSequentially(text, { delay: 15 });
  } else {
    await input.fill(text);
  }
  await input.press('Enter');
}

/** Text of `#typing`, trimmed. */
export async function typingText(page) {
  return ((await page.locator('#typing').textContent({ timeout: 1000 })) || '').trim();
}

/** The `li.message` with this data-id, in `#messages`. */
export function messageItem(page, id) {
  return page.locator(`#messages li.message[data-id="${id}"]`);
}

/** The reaction button for `emoji` on a message, and its count as a number (null when absent). */
export async function reactionCount(page, id, emoji) {
  const button = messageItem(page, id).locator(`.reactions .reaction[data-emoji="${emoji}"]`);
  if ((await button.count()) === 0) return null;
  const text = (await button.first().locator('.count').textContent({ timeout: 1000 }))?.trim();
  return text === undefined || text === '' ? null : Number(text);
}

/** Is the element on screen: displayed, not visibility:hidden, with a box inside the viewport? */
export async function onScreen(locator) {
  if ((await locator.count()) === 0) return false;
  return locator.first().evaluate((el) => {
    if (el.closest('[hidden]')) return false;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    const w = window.innerWidth;
    const h = window.innerHeight;
    // At least half of its width inside the viewport (an off-canvas drawer is translated out).
    const visibleWidth = Math.min(r.right, w) - Math.max(r.left, 0);
    return visibleWidth >= Math.min(r.width, w) / 2 && r.bottom > 0 && r.top < h;
  });
}
