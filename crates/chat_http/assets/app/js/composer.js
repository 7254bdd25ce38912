// A message box: Enter sends, Shift+Enter adds a line, typing is signalled, an optional
// reply banner and optional file uploads. Used for the room and for the thread panel.

import { snippet } from './render.js';

const MAX_LENGTH = 10_000;

/**
 * @typedef {object} ComposerOptions
 * @property {HTMLFormElement} form
 * @property {HTMLTextAreaElement} input
 * @property {(text: string, replyTo: string|null) => void} onSend
 * @property {() => void} [onTyped] a keystroke changed the text
 * @property {() => void} [onStopTyping] the text was sent or emptied
 * @property {(message: string) => void} [onError]
 * @property {HTMLInputElement} [fileInput]
 * @property {(files: File[], text: string) => void} [onFiles]
 * @property {HTMLProgressElement} [progress]
 * @property {HTMLElement} [replyBanner] `#replying-to`
 */

/** A form that sends messages. */
export class Composer {
  /** @param {ComposerOptions} options */
  constructor(options) {
    this.options = options;
    this.replyTo = null;
    const { form, input, fileInput, replyBanner } = options;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    input.addEventListener('keydown', (event) => this.#onKey(event));
    input.addEventListener('input', () => {
      this.#resize();
      if (input.value.trim()) options.onTyped?.();
      else options.onStopTyping?.();
    });
    fileInput?.addEventListener('change', () => this.#chooseFiles());
    replyBanner?.querySelector('.cancel-reply')?.addEventListener('click', () => {
      this.setReply(null);
      input.focus();
    });
  }

  /** Enables or disables the whole form. */
  setEnabled(enabled) {
    for (const control of this.options.form.elements) control.disabled = !enabled;
  }

  /**
   * Starts (or, with null, stops) replying to a message.
   * @param {{id: string, sender_name?: string, sender_id: string, content: string}|null} message
   */
  setReply(message) {
    const banner = this.options.replyBanner;
    this.replyTo = message?.id ?? null;
    if (!banner) return;
    banner.hidden = !message;
    if (message) {
      const who = message.sender_name ?? message.sender_id;
      banner.querySelector('.replying-to-text').textContent = `Replying to ${who}: ${snippet(message.content, 60) || 'attachment'}`;
    }
  }

  /** Shows upload progress (0–100), or hides it with null. */
  setProgress(percent) {
    const progress = this.options.progress;
    if (!progress) return;
    progress.hidden = percent === null;
    if (percent !== null) {
      progress.value = percent;
      progress.textContent = `Uploading: ${percent}%`;
    }
  }

  /** Moves the keyboard focus to the text box. */
  focus() {
    this.options.input.focus();
  }

  /** Empties the text box and forgets the reply. */
  reset() {
    this.options.input.value = '';
    this.#resize();
    this.setReply(null);
  }

  #onKey(event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.#submit();
    } else if (event.key === 'Escape' && this.replyTo) {
      event.preventDefault();
      this.setReply(null);
    }
  }

  #submit() {
    const { input, onSend, onStopTyping, onError } = this.options;
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_LENGTH) {
      onError?.(`A message can have at most ${MAX_LENGTH.toLocaleString()} characters (this one has ${text.length.toLocaleString()}).`);
      return;
    }
    const replyTo = this.replyTo;
    this.reset();
    onStopTyping?.();
    onSend(text, replyTo);
  }

  #chooseFiles() {
    const { fileInput, onFiles, input, onStopTyping } = this.options;
    const files = [...fileInput.files];
    fileInput.value = '';
    if (files.length === 0 || !onFiles) return;
    const text = input.value.trim();
    this.reset();
    onStopTyping?.();
    onFiles(files, text);
  }

  #resize() {
    const { input } = this.options;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }
}
