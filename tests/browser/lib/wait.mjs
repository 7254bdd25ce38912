// Polling assertions: playwright-core has no test `expect`, so these stand in for its
// auto-waiting matchers. Every step waits at most 10 s.

export const STEP_TIMEOUT = 10_000;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function describe(value) {
  if (value instanceof Error) return `threw ${value.message.split('\n')[0]}`;
  try {
    const text = JSON.stringify(value);
    return text && text.length > 600 ? `${text.slice(0, 600)}…` : String(text);
  } catch {
    return String(value);
  }
}

/**
 * Calls `fn` until it returns a truthy value (which is returned) or `timeout` ms pass; then
 * throws with `message` and the last value `fn` returned (or threw). A throw from `fn` counts as
 * "not yet".
 */
export async function waitFor(fn, { timeout = STEP_TIMEOUT, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for: ${message} (last: ${describe(last)})`);
    }
    await pause(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Checks that `fn` stays truthy for `duration` ms (polled): the way to assert that something
 * does NOT happen within a window. Throws as soon as it turns falsy.
 */
export async function holdsFor(fn, duration, { interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + duration;
  for (;;) {
    let value;
    try {
      value = await fn();
    } catch (error) {
      value = error;
    }
    if (!value || value instanceof Error) {
      throw new Error(`expected to hold for ${duration} ms but did not: ${message} (got: ${describe(value)})`);
    }
    if (Date.now() >= deadline) return value;
    await pause(interval);
  }
}

/** Waits until a locator is in the given state (visible, hidden, attached, detached). */
export async function waitForLocator(locator, state = 'visible', { timeout = STEP_TIMEOUT, message } = {}) {
  try {
    await locator.waitFor({ state, timeout });
  } catch (error) {
    throw new Error(`${message || `${locator} to be ${state}`}: ${error.message.split('\n')[0]}`);
  }
}
