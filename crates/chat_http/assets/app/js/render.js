// DOM helpers. Everything a user wrote goes into the page as text (textContent or text
// nodes), never as HTML, so a message cannot inject markup or script.

/**
 * Creates an element.
 * @param {string} tag e.g. `button` or `li.message` (classes after dots)
 * @param {Record<string, any>} [attrs] attributes; `text` sets textContent, `hidden` and
 *   boolean values set or leave out the attribute, `dataset` an object of data-*, `on` an
 *   object of event listeners
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const node = document.createElement(name);
  if (classes.length) node.classList.add(...classes);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/** Appends children (nodes or strings as text), skipping empty ones. */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Removes every child of `node`. */
export function clear(node) {
  node.replaceChildren();
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

/**
 * Accepts an RFC 3339 string (ChatAPI) or unix seconds (account dialect).
 * @param {string|number} value
 * @returns {Date}
 */
export function toDate(value) {
  return typeof value === 'number' ? new Date(value * 1000) : new Date(value);
}

/** A `<time>` element showing the time of day, with the full date as its title. */
export function timeElement(value) {
  const date = toDate(value);
  return el('time', { datetime: date.toISOString(), title: fullFormat.format(date), text: timeFormat.format(date) });
}

/** A short date or time for lists (today: the time, else the date). */
export function shortWhen(value) {
  const date = toDate(value);
  return dayKey(date) === dayKey(new Date()) ? timeFormat.format(date) : shortDateFormat.format(date);
}

/** The local calendar day of a date, as `YYYY-MM-DD`. */
export function dayKey(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "Today", "Yesterday" or the date, for a day key. */
export function dayLabel(key) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (key === dayKey(today)) return 'Today';
  if (key === dayKey(yesterday)) return 'Yesterday';
  const [y, m, d] = key.split('-').map(Number);
  return dayFormat.format(new Date(y, m - 1, d));
}

/** File sizes for people. */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/**
 * Message text as nodes: plain text, `@mentions` of the given names highlighted, and
 * http(s) links made clickable.
 * @param {string} text
 * @param {Set<string>} mentionTokens lower-case words that, after `@`, name a mentioned member
 * @returns {Node[]}
 */
export function richText(text, mentionTokens = new Set()) {
  const nodes = [];
  for (const part of splitLinks(text)) {
    if (part.link) {
      nodes.push(el('a', { href: part.link, target: '_blank', rel: 'noopener noreferrer', text: part.link }));
    } else {
      nodes.push(...withMentions(part.text, mentionTokens));
    }
  }
  return nodes;
}

function splitLinks(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ link: match[0] });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

function withMentions(text, tokens) {
  if (tokens.size === 0) return [text];
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(/@([\p{L}\p{N}_.-]+)/gu)) {
    const word = match[1].replace(/[.-]+$/, '');
    if (!tokens.has(word.toLowerCase())) continue;
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(el('span.mention', { text: `@${word}` }));
    last = match.index + word.length + 1;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** Shortens text to `max` characters for quotes and banners. */
export function snippet(text, max = 80) {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
