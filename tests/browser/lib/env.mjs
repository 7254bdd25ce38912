// The run's settings, from the environment scripts/browser-test.sh sets.
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the browser tests with scripts/browser-test.sh`);
  }
  return value;
}

export const BASE_URL = required('BASE_URL').replace(/\/+$/, '');
export const DEMO_JSON = required('DEMO_JSON');
export const ARTIFACTS = process.env.ARTIFACTS || join(here, '..', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** The port the network-cut proxy listens on (0: any free port). */
export const PROXY_PORT = Number(process.env.PROXY_PORT || 0);

mkdirSync(ARTIFACTS, { recursive: true });

/**
 * The demo's JSON (`chatd demo --json`): account_id, client_id, api_key, users [{user_id, name,
 * id, token, link}], rooms [{id, account_room_id, name, members}].
 */
export const demo = JSON.parse(readFileSync(DEMO_JSON, 'utf8'));

export function user(userId) {
  const found = demo.users.find((u) => u.user_id === userId);
  if (!found) throw new Error(`the demo has no user ${userId}: ${JSON.stringify(demo.users.map((u) => u.user_id))}`);
  return found;
}

export function room(name) {
  const found = demo.rooms.find((r) => r.name === name);
  if (!found) throw new Error(`the demo has no room "${name}": ${JSON.stringify(demo.rooms.map((r) => r.name))}`);
  return found;
}

/** A short tag that makes this run's messages unique. */
export const RUN_TAG = Date.now().toString(36).slice(-5);
