// The credential and who it belongs to.
//
// A link such as `/app/#token=sk_…` hands the credential over in the URL fragment, which
// browsers never send to a server. It is moved to sessionStorage (this tab only, gone when
// the tab closes) and removed from the address bar at once, so it does not stay in the
// history or get copied along with the URL.

import { ApiError } from './api.js';

const STORAGE_KEY = 'chat.credential';

/** Shown whenever an account API key is offered: it is an administrator's master key. */
export const API_KEY_MESSAGE = 'An account API key must never be used in a browser';
/** Shown when a credential stops working (4001, or 401 over HTTP). */
export const SESSION_ENDED_MESSAGE = 'Your session has ended';

/**
 * Takes `#token=…` out of the address bar, storing it; answers it (or null).
 * @returns {string|null}
 */
export function takeCredentialFromUrl() {
  if (!location.hash.startsWith('#')) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (!token) return null;
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  const credential = token.trim();
  storeCredential(credential);
  return credential;
}

/** The credential kept for this tab, if any. */
export function storedCredential() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** Keeps the credential for this tab. */
export function storeCredential(credential) {
  try {
    sessionStorage.setItem(STORAGE_KEY, credential);
  } catch {
    // storage disabled: the session lasts until the page is reloaded
  }
}

/** Forgets the credential. */
export function clearCredential() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

/** True for the account API key (`ck_…`), which must never reach a browser. */
export function isApiKey(credential) {
  return credential.startsWith('ck_');
}

/**
 * Asks the server who the credential is (`GET /api/v1/me`).
 * @param {import('./api.js').Api} api
 * @returns {Promise<{user_id: string, user_name: string, id: number, account_id: number,
 *   permissions: string[], expires_at: string|null}>}
 * @throws {Error} with a message to show on the sign-in form
 */
export async function whoAmI(api) {
  try {
    return await api.me();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 403 && error.code === 'NOT_A_USER') throw new Error(API_KEY_MESSAGE);
    if (error.status === 401) {
      throw new Error(error.code === 'TOKEN_EXPIRED'
        ? 'This credential has expired. Ask for a new one.'
        : 'This credential was not accepted. Check it and try again.');
    }
    const failure = new Error(`Could not sign in: ${error.message}`);
    // The server being away is no reason to forget the credential: a reload tries again.
    failure.keepCredential = error.status === 0 || error.status >= 500 || error.status === 429;
    throw failure;
  }
}
