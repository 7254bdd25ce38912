// Two people in one browser: Ann (straight to chatd) and Bob (through a TCP proxy the test can
// cut), each signed in with their demo link, both in the room "General". The steps run in order
// and share the pages; each ends with a full-page screenshot of both pages.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, PROXY_PORT, RUN_TAG, user } from './lib/env.mjs';
import { launchBrowser, newPerson, through, screenshots } from './lib/browser.mjs';
import { startProxy } from './lib/proxy.mjs';
import { makePng } from './lib/png.mjs';
import { waitFor, holdsFor, waitForLocator } from './lib/wait.mjs';
import {
  signInWithLink,
  openRoom,
  roomButton,
  connectionState,
  waitForConnected,
  messages,
  messagesWith,
  waitForMessage,
  send,
  typingText,
  messageItem,
  reactionCount,
} from './lib/chat.mjs';

const STEP = { timeout: 60_000 };

describe('two people chatting', () => {
  let browser;
  let proxy;
  let ann;
  let bob;
  const pages = {};
  const shot = (step) => screenshots(step, pages);
  // Shared between steps.
  let first; // Ann's first message (step 1), stored
  let queuedText; // Bob's message sent while his network was cut

  const annUser = user('ann');
  const bobUser = user('bob');

  before(async () => {
    const port = Number(new URL(BASE_URL).port);
    proxy = await startProxy({ targetPort: port, port: PROXY_PORT });
    console.log(`chatd ${BASE_URL}; Bob's traffic goes through the proxy ${proxy.origin}`);
    browser = await launchBrowser();
    console.log(`chromium ${browser.version()}`);
    ann = (await newPerson(browser, 'ann')).page;
    bob = (await newPerson(browser, 'bob')).page;
    pages.ann = ann;
    pages.bob = bob;
    try {
      await Promise.all([
        signInWithLink(ann, annUser.link, annUser.name),
        signInWithLink(bob, through(bobUser.link, proxy.origin), bobUser.name),
      ]);
      await Promise.all([openRoom(ann, 'General'), openRoom(bob, 'General')]);
    } finally {
      await screenshots('signed-in-general', pages, { first: 0 });
    }
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
  });

  it('Ann sends with Enter; Bob sees it live in General', STEP, async () => {
    const text = `Hello Bob, this is Ann (${RUN_TAG}-1)`;
    try {
      await send(ann, text);
      first = await waitForMessage(ann, text, { own: true });
      assert.equal(first.sender, 'ann', "Ann's message has data-sender-id=ann");
      const seen = await waitForMessage(bob, text);
      assert.equal(seen.id, first.id, 'the same data-id on both pages');
      assert.equal(seen.seq, first.seq, 'the same data-seq on both pages');
      assert.equal(seen.own, 'false', 'data-own="false" on Bob\'s page');
      assert.equal(seen.sender, 'ann');
      assert.equal(await ann.locator('#message-input').inputValue(), '', 'the composer is emptied after sending');
    } finally {
      await shot('ann-sends');
    }
  });

  it("Bob types: Ann sees Bob's name in #typing; it clears when he stops, and when he sends", STEP, async () => {
    const input = bob.locator('#message-input');
    try {
      await input.click();
      await input.pressSequentially('Typing a reply', { delay: 20 });
      await waitFor(async () => (await typingText(ann)).includes(bobUser.name), {
        message: `Ann's #typing to contain "${bobUser.name}"`,
      });
      await shot('bob-typing');
      // He stops: after 4 s idle his client says so (or Ann's indicator expires at 6 s).
      await waitFor(async () => (await typingText(ann)) === '', {
        message: "Ann's #typing to clear after Bob stopped typing",
      });
      await shot('bob-stopped-typing');

      const text = ` and now sent (${RUN_TAG}-2)`;
      await input.pressSequentially(text, { delay: 20 });
      await waitFor(async () => (await typingText(ann)).includes(bobUser.name), {
        message: `Ann's #typing to contain "${bobUser.name}" again`,
      });
      await input.press('Enter');
      const sentAt = Date.now();
      // Cleared by Bob's is_typing=false after sending, well before a 6 s expiry would do it.
      await waitFor(async () => (await typingText(ann)) === '', {
        timeout: 3000,
        message: "Ann's #typing to clear within 3 s of Bob sending",
      });
      console.log(`typing cleared ${Date.now() - sentAt} ms after Bob sent`);
      await waitForMessage(ann, `Typing a reply${text}`, { own: false });
    } finally {
      await shot('bob-sent');
    }
  });

  it('in General, Ann\'s message is not "read" while Cat, a member, has not read it', STEP, async () => {
    assert.ok(first, 'needs the message of step 1');
    const ticks = messageItem(ann, first.id).locator('.ticks');
    try {
      const status = await waitFor(
        async () => {
          const value = await ticks.getAttribute('data-status', { timeout: 1000 });
          return ['sent', 'delivered'].includes(value) ? value : null;
        },
        { message: `.ticks[data-status] "sent" or "delivered" on Ann's message ${first.id} (Cat has not read it)` },
      );
      console.log(`Ann's message in General: ${status}`);
      assert.equal(await ticks.getAttribute('aria-label'), status === 'sent' ? 'Sent' : 'Delivered');
      // Messages that are not mine carry no ticks.
      const others = (await messages(ann)).filter((m) => m.own === 'false' && m.status !== null);
      assert.deepEqual(others, [], 'no .ticks on messages that are not mine');
    } finally {
      await shot('general-not-read');
    }
  });

  let unseen; // Ann's message in "Ann and Bob", sent while Bob is elsewhere
  it('in a room Bob does not have open, Ann\'s message is not "read", and is unread for Bob', STEP, async () => {
    const text = `Only for Bob (${RUN_TAG}-3)`;
    try {
      await openRoom(ann, 'Ann and Bob');
      await send(ann, text);
      unseen = await waitForMessage(ann, text, { own: true });
      const status = async () => (await messagesWith(ann, text)).map((m) => m.status)[0];
      await waitFor(async () => ['sent', 'delivered'].includes(await status()), {
        message: `Ann's new message to show .ticks "sent" or "delivered"`,
      });
      // Past the receipts fetched again 1.5 s after the ack: still not read.
      await holdsFor(async () => ['sent', 'delivered'].includes(await status()), 2500, {
        message: "Ann's message in a room Bob has not open stays sent/delivered",
      });
      console.log(`before Bob opened the room: ${await status()}`);
      const badge = roomButton(bob, 'Ann and Bob').locator('.badge-unread');
      await waitFor(async () => (await badge.isVisible()) && (await badge.textContent())?.trim() === '1', {
        message: `Bob's "Ann and Bob" .badge-unread to show 1`,
      });
      assert.match((await badge.getAttribute('aria-label')) || '', /^1 unread/, 'the badge says "1 unread …"');
      assert.equal(await roomButton(bob, 'General').getAttribute('aria-current'), 'page', 'Bob is still in General');
    } finally {
      await shot('not-read-yet');
    }
  });

  it('Bob opens that room: it becomes "read" on Ann\'s page and his badge clears', STEP, async () => {
    assert.ok(unseen, 'needs the message of the previous step');
    try {
      await openRoom(bob, 'Ann and Bob');
      await waitForMessage(bob, unseen.content);
      await waitFor(
        async () =>
          (await messageItem(ann, unseen.id).locator('.ticks').getAttribute('data-status', { timeout: 1000 })) === 'read',
        { message: `Ann's message ${unseen.id} to turn .ticks[data-status="read"]` },
      );
      const badge = roomButton(bob, 'Ann and Bob').locator('.badge-unread');
      await waitFor(async () => (await badge.count()) === 0 || !(await badge.isVisible()), {
        message: "Bob's unread badge of the open room to be hidden",
      });
      assert.equal(await messageItem(ann, unseen.id).locator('.ticks').getAttribute('aria-label'), 'Read');
    } finally {
      await shot('read-after-open');
    }
  });

  it('both in "Ann and Bob": Ann\'s next message turns "read" as soon as Bob\'s page shows it', STEP, async () => {
    const text = `Are you reading this? (${RUN_TAG}-3b)`;
    try {
      await send(ann, text);
      const mine = await waitForMessage(ann, text, { own: true });
      await waitForMessage(bob, text);
      await waitFor(
        async () =>
          (await messageItem(ann, mine.id).locator('.ticks').getAttribute('data-status', { timeout: 1000 })) === 'read',
        { message: `Ann's live message ${mine.id} to turn .ticks[data-status="read"] (Bob has the room open)` },
      );
    } finally {
      await shot('read-live');
      await Promise.all([openRoom(ann, 'General'), openRoom(bob, 'General')]);
    }
  });

  it('Ann attaches an image: both pages show the loaded img.attachment-preview', STEP, async () => {
    const caption = `A picture (${RUN_TAG}-4)`;
    const fileName = `pixels-${RUN_TAG}.png`;
    const png = makePng(24, 16);
    const find = (page) =>
      page.evaluate(
        ({ caption, fileName }) => {
          for (const li of document.querySelectorAll('#messages li.message')) {
            const img = li.querySelector('.attachments img.attachment-preview, img.attachment-preview');
            if (!img) continue;
            if (!li.textContent.includes(caption) && !(img.alt || '').includes(fileName)) continue;
            return {
              id: li.dataset.id || null,
              content: (li.querySelector('.content')?.textContent || '').trim(),
              src: img.getAttribute('src'),
              alt: img.getAttribute('alt'),
              complete: img.complete,
              naturalWidth: img.naturalWidth,
            };
          }
          return null;
        },
        { caption, fileName },
      );
    try {
      await ann.locator('#message-input').fill(caption);
      await ann.locator('#file-input').setInputFiles({ name: fileName, mimeType: 'image/png', buffer: png });
      const results = {};
      for (const [who, page] of Object.entries(pages)) {
        results[who] = await waitFor(
          async () => {
            const found = await find(page);
            return found && found.id && found.complete && found.naturalWidth > 0 ? found : null;
          },
          { message: `${who}'s page to show a loaded img.attachment-preview (naturalWidth > 0) in a stored message` },
        );
      }
      console.log(`image: ${JSON.stringify(results.ann)}`);
      assert.equal(results.ann.id, results.bob.id, 'the same message on both pages');
      assert.ok(results.ann.alt, 'the image has an alt text');
      assert.ok(results.ann.content.includes(caption), `the composer's text is the message's content (got "${results.ann.content}")`);
      await waitFor(async () => !(await ann.locator('#upload-progress').isVisible()), {
        message: '#upload-progress hidden once the upload is done',
      });
    } finally {
      await shot('image-uploaded');
    }
  });

  it('Ann reacts 🎉 from the picker: 1 on both pages; Bob clicks it: 2 on both', STEP, async () => {
    assert.ok(first, 'needs the message of step 1');
    const emoji = '🎉';
    const counts = async () => [await reactionCount(ann, first.id, emoji), await reactionCount(bob, first.id, emoji)];
    try {
      const item = messageItem(ann, first.id);
      await item.scrollIntoViewIfNeeded();
      await item.hover();
      await item.locator('.action-react').click();
      const pick = ann.locator(`.emoji-picker button[data-emoji="${emoji}"]`).filter({ visible: true });
      await waitForLocator(pick.first(), 'visible', { message: `the emoji picker's ${emoji} button` });
      await pick.first().click();
      await waitFor(async () => JSON.stringify(await counts()) === '[1,1]', {
        message: `.reaction[data-emoji="${emoji}"] .count = 1 on Ann's and Bob's pages`,
      });
      const annButton = messageItem(ann, first.id).locator(`.reaction[data-emoji="${emoji}"]`);
      const bobButton = messageItem(bob, first.id).locator(`.reaction[data-emoji="${emoji}"]`);
      assert.equal(await annButton.getAttribute('aria-pressed'), 'true', 'pressed for Ann, who reacted');
      assert.equal(await bobButton.getAttribute('aria-pressed'), 'false', 'not pressed for Bob');
      await shot('ann-reacted');

      await bobButton.click();
      await waitFor(async () => JSON.stringify(await counts()) === '[2,2]', {
        message: `.reaction[data-emoji="${emoji}"] .count = 2 on Ann's and Bob's pages`,
      });
      await waitFor(async () => (await bobButton.getAttribute('aria-pressed')) === 'true', {
        message: 'pressed for Bob after he clicked it',
      });
    } finally {
      await shot('bob-reacted');
    }
  });

  it("Bob's network is cut: he shows reconnecting, then gets Ann's 3 messages exactly once, in order", STEP, async () => {
    const texts = [1, 2, 3].map((n) => `While you were away ${n} (${RUN_TAG}-5)`);
    queuedText = `Sent while my network was down (${RUN_TAG}-6)`;
    try {
      await waitForConnected(bob);
      assert.ok(proxy.connections > 0, `Bob's traffic goes through the proxy (${JSON.stringify(proxy.stats)})`);

      proxy.cut();
      await waitFor(async () => (await connectionState(bob)) === 'reconnecting', {
        message: `Bob's #connection[data-state="reconnecting"] once his network is cut`,
      });
      assert.match((await bob.locator('#connection').textContent()) || '', /Reconnecting/, '#connection says "Reconnecting…"');

      for (const text of texts) {
        await send(ann, text);
        await waitForMessage(ann, text, { own: true });
      }
      // Bob sends too: it waits as pending until he is back (checked in the next step).
      await send(bob, queuedText);
      await waitFor(async () => (await messagesWith(bob, queuedText)).some((m) => m.pending), {
        message: `Bob's message sent while cut to show as data-pending="true"`,
      });
      const early = (await messages(bob)).filter((m) => texts.some((t) => m.content.includes(t)));
      assert.deepEqual(early, [], "Bob's page cannot have Ann's messages while his network is cut");
      assert.notEqual(await connectionState(bob), 'connected', 'Bob is not connected while cut');
      await shot('network-cut');

      proxy.restore();
      await waitForConnected(bob);
      const got = await waitFor(
        async () => {
          const all = await messages(bob);
          const each = texts.map((t) => all.filter((m) => m.content.includes(t)));
          return each.every((list) => list.length >= 1 && list.every((m) => m.id && m.seq !== null)) ? each : null;
        },
        { message: "Bob's page to show Ann's 3 messages, stored, after reconnecting" },
      );

      // A sync point instead of a sleep: once Ann's next message is live on Bob's page, any
      // late duplicate from the catch-up would be there too.
      const after = `Back online? (${RUN_TAG}-7)`;
      await send(ann, after);
      await waitForMessage(bob, after);

      const all = await messages(bob);
      const each = texts.map((t) => all.filter((m) => m.content.includes(t)));
      for (const [i, list] of each.entries()) {
        assert.equal(list.length, 1, `"${texts[i]}" appears exactly once on Bob's page (got ${list.length})`);
      }
      const ids = all.filter((m) => m.id).map((m) => m.id);
      assert.equal(new Set(ids).size, ids.length, `no data-id twice in Bob's #messages (${ids.length} messages)`);
      const seqs = each.map((list) => list[0].seq);
      assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], `the 3 messages have increasing data-seq (${seqs})`);
      const positions = each.map((list) => all.findIndex((m) => m.id === list[0].id));
      assert.ok(positions[0] < positions[1] && positions[1] < positions[2], `shown in order (positions ${positions})`);
      assert.equal(got.length, 3);
      assert.equal(await connectionState(bob), 'connected');
      console.log(`proxy: ${JSON.stringify(proxy.stats)}`);
    } finally {
      proxy.restore();
      await shot('network-restored');
    }
  });

  it('the message Bob sent while cut is delivered once after reconnecting, and the list is in seq order', STEP, async () => {
    assert.ok(queuedText, 'needs the previous step');
    try {
      const onBob = await waitForMessage(bob, queuedText, { own: true });
      const onAnn = await waitForMessage(ann, queuedText);
      assert.equal(onAnn.id, onBob.id);
      for (const [who, page] of Object.entries(pages)) {
        const stored = (await messages(page)).filter((m) => m.seq !== null);
        const seqs = stored.map((m) => m.seq);
        const sorted = [...seqs].sort((a, b) => a - b);
        assert.deepEqual(seqs, sorted, `${who}'s #messages is in data-seq order`);
        assert.equal(new Set(seqs).size, seqs.length, `no data-seq twice on ${who}'s page`);
      }
    } finally {
      await shot('queued-send-delivered');
    }
  });

  it('no Content Security Policy refusals, no uncaught errors and no missing client file in either page', async () => {
    const problems = Object.values(pages).flatMap((page) => page.problems.map((p) => `${page.label}: ${p}`));
    assert.deepEqual(problems, []);
  });
});
