// Entry point: find the credential (link fragment, this tab's storage, or the sign-in
// form), check it with `GET /api/v1/me`, then start the app.

import { Api } from './api.js';
import {
  API_KEY_MESSAGE, SESSION_ENDED_MESSAGE, takeCredentialFromUrl, storedCredential, storeCredential,
  clearCredential, isApiKey, whoAmI,
} from './session.js';
import { ChatApp } from './app.js';

const FLASH_KEY = 'chat.flash';

/** Every element the app works with, by a camelCase name of its id. */
const ui = Object.fromEntries([
  'signin-view', 'signin', 'credential', 'signin-error', 'app-view', 'toggle-rooms', 'sidebar', 'rooms',
  'search', 'search-input', 'connection', 'me', 'signout', 'room', 'room-title', 'members', 'room-empty', 'history',
  'load-older', 'messages', 'typing', 'composer', 'replying-to', 'message-input', 'file-input',
  'upload-progress', 'thread', 'thread-parent', 'thread-messages', 'thread-composer', 'thread-input',
  'close-thread', 'search-panel', 'search-status', 'search-results', 'close-search', 'notice',
].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), document.getElementById(id)]));

let started = false;
let ending = false;

/**
 * Ends the session: forgets the credential and reloads the page (which closes every
 * socket), showing `message` on the sign-in form.
 * @param {string} message
 */
function endSession(message) {
  if (ending) return;
  ending = true;
  clearCredential();
  sessionStorage.removeItem('chat.room');
  if (message) sessionStorage.setItem(FLASH_KEY, message);
  location.reload();
}

function showSignIn(message = '') {
  ui.appView.hidden = true;
  ui.signinView.hidden = false;
  ui.signinError.textContent = message;
  ui.credential.focus();
}

async function signIn(credential) {
  if (isApiKey(credential)) {
    clearCredential();
    showSignIn(API_KEY_MESSAGE);
    return;
  }
  const api = new Api(credential, { onUnauthorized: () => started && endSession(SESSION_ENDED_MESSAGE) });
  let me;
  try {
    me = await whoAmI(api);
  } catch (error) {
    if (!error.keepCredential) clearCredential();
    showSignIn(error.message);
    return;
  }
  storeCredential(credential);
  ui.credential.value = '';
  started = true;
  await new ChatApp({ api, me, ui, endSession }).start();
}

function takeFlash() {
  const message = sessionStorage.getItem(FLASH_KEY) ?? '';
  sessionStorage.removeItem(FLASH_KEY);
  return message;
}

ui.signin.addEventListener('submit', (event) => {
  event.preventDefault();
  if (started) return;
  const credential = ui.credential.value.trim();
  if (!credential) {
    showSignIn('Enter your credential.');
    return;
  }
  ui.signinError.textContent = '';
  signIn(credential);
});

const flash = takeFlash();
const credential = takeCredentialFromUrl() ?? storedCredential();
if (credential) signIn(credential);
else showSignIn(flash);
