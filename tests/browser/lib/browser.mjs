// Chromium (Debian's, through playwright-core) and the pages of the demo users.
import { chromium } from 'playwright-core';
import { join } from 'node:path';
import { CHROMIUM, ARTIFACTS } from './env.mjs';

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/**
 * A new context and page for one person. Collects the page's uncaught errors and Content
 * Security Policy refusals (`page.problems`) and echoes its console errors to the test output.
 */
export async function newPerson(browser, label, { viewport = { width: 1280, height: 800 }, ...options } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.label = label;
  page.problems = [];
  page.on('pageerror', (error) => {
    page.problems.push(`uncaught error: ${error.message}`);
    console.log(`[${label}] page error: ${error.message}`);
  });
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to (load|apply|execute|connect|frame)/i.test(text)) {
      page.problems.push(`CSP: ${text}`);
    }
    if (message.type() === 'error') console.log(`[${label}] console error: ${text}`);
  });
  page.on('response', (response) => {
    const status = response.status();
    if (status < 400) return;
    const url = new URL(response.url());
    console.log(`[${label}] HTTP ${status} ${response.request().method()} ${url.pathname}`);
    // The client's own files must all be there.
    if (url.pathname === '/app' || url.pathname.startsWith('/app/')) {
      page.problems.push(`HTTP ${status} for the client's file ${url.pathname}`);
    }
  });
  return { context, page };
}

/** `link` with its origin replaced by `origin` (e.g. the proxy's), keeping path and hash. */
export function through(link, origin) {
  const url = new URL(link);
  const to = new URL(origin);
  url.protocol = to.protocol;
  url.host = to.host;
  return url.toString();
}

let shotNumber = 0;

/**
 * Full-page screenshots of each page, `<nn>-<step>-<user>.png` in ARTIFACTS. `first` sets the
 * numbering (each test file starts its own range). Never throws: a failed screenshot is logged.
 */
export async function screenshots(step, pages, { first } = {}) {
  if (first !== undefined) shotNumber = first;
  shotNumber += 1;
  const nn = String(shotNumber).padStart(2, '0');
  const safe = step.replace(/[^a-z0-9-]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
  await Promise.all(
    Object.entries(pages).map(async ([who, page]) => {
      const path = join(ARTIFACTS, `${nn}-${safe}-${who}.png`);
      try {
        await page.screenshot({ path, fullPage: true, timeout: 10_000 });
      } catch (error) {
        console.log(`screenshot ${path} failed: ${error.message.split('\n')[0]}`);
      }
    }),
  );
}

export function setShotNumber(n) {
  shotNumber = n;
}
