// Clicks and keys on messages, handled once per list (event delegation): reactions, the
// emoji picker, reply, thread, jumping to a quoted message, retrying a failed send.

import { el } from './render.js';

/** The reactions offered by the picker. */
export const EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

/**
 * @typedef {object} MessageActions
 * @property {(messageId: string, emoji: string, reacted: boolean) => void} react set my reaction
 * @property {(messageId: string) => void} [reply]
 * @property {(messageId: string) => void} [thread]
 * @property {(messageId: string, seq: number|undefined) => void} [jump] show a quoted message
 * @property {(echoId: string) => void} [retry]
 * @property {(echoId: string) => void} [discard]
 */

/**
 * Wires the message actions of a list.
 * @param {HTMLElement} list an `ol` of `li.message`
 * @param {MessageActions} handlers
 */
export function bindMessageActions(list, handlers) {
  list.addEventListener('click', (event) => onClick(event, handlers));
  list.addEventListener('keydown', onPickerKey);
}

function onClick(event, handlers) {
  const button = event.target.closest('button');
  const li = button?.closest('li.message');
  if (!li) return;
  const id = li.dataset.id;
  if (button.matches('.emoji-picker button')) {
    const already = li.querySelector(`.reaction[data-emoji="${CSS.escape(button.dataset.emoji)}"]`);
    handlers.react(id, button.dataset.emoji, already?.getAttribute('aria-pressed') !== 'true');
    closePicker(li, true);
  } else if (button.matches('.reaction')) {
    handlers.react(id, button.dataset.emoji, button.getAttribute('aria-pressed') !== 'true');
  } else if (button.matches('.action-react')) {
    togglePicker(li, button);
  } else if (button.matches('.action-reply')) {
    handlers.reply?.(id);
  } else if (button.matches('.action-thread, .thread-link')) {
    handlers.thread?.(id);
  } else if (button.matches('.reply-quote')) {
    const seq = Number(button.dataset.replySeq) || undefined;
    handlers.jump?.(button.dataset.replyTo, seq);
  } else if (button.matches('.retry')) {
    handlers.retry?.(li.dataset.echoId);
  } else if (button.matches('.discard')) {
    handlers.discard?.(li.dataset.echoId);
  }
}

function togglePicker(li, trigger) {
  if (li.querySelector('.emoji-picker')) {
    closePicker(li, true);
    return;
  }
  closeAllPickers();
  const picker = el('div.emoji-picker', { role: 'group', 'aria-label': 'Choose a reaction' },
    EMOJI.map((emoji) => el('button', { type: 'button', dataset: { emoji }, 'aria-label': `React with ${emoji}`, text: emoji })));
  trigger.after(picker);
  trigger.setAttribute('aria-expanded', 'true');
  li.classList.add('picking');
  picker.querySelector('button').focus();
}

function closePicker(li, restoreFocus) {
  const picker = li.querySelector('.emoji-picker');
  if (!picker) return;
  const trigger = li.querySelector('.action-react');
  const hadFocus = picker.contains(document.activeElement);
  picker.remove();
  li.classList.remove('picking');
  trigger?.setAttribute('aria-expanded', 'false');
  if (restoreFocus && hadFocus) trigger?.focus();
}

/** Closes every open emoji picker. */
export function closeAllPickers() {
  for (const picker of document.querySelectorAll('.emoji-picker')) closePicker(picker.closest('li.message'), false);
}

// Escape closes the picker; arrow keys move along it.
function onPickerKey(event) {
  const picker = event.target.closest('.emoji-picker');
  if (!picker) return;
  const buttons = [...picker.querySelectorAll('button')];
  const index = buttons.indexOf(event.target);
  if (event.key === 'Escape') {
    event.preventDefault();
    event.stopPropagation();
    closePicker(picker.closest('li.message'), true);
  } else if (event.key === 'ArrowRight' || event.key === 'ArrowDown') {
    event.preventDefault();
    buttons[(index + 1) % buttons.length].focus();
  } else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') {
    event.preventDefault();
    buttons[(index - 1 + buttons.length) % buttons.length].focus();
  }
}

document.addEventListener('click', (event) => {
  if (!event.target.closest?.('.emoji-picker, .action-react')) closeAllPickers();
});
