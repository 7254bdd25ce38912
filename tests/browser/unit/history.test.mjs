// Day separators and sender grouping of a message list (history.js `MessageList.layout`,
// render.js `dayKey`/`dayLabel`).
//
// MessageList works on DOM nodes. Node has no DOM, so `layout()` is driven here on a small
// fake of the few element features it uses (children, siblings, classList, dataset,
// `:scope > li.x` queries); the list items carry the data-* that message.js's renderMessage
// sets (`day` = dayKey of created_at, `time` = its epoch ms, `senderId`) and a `.sender`.
// Rendering itself (renderMessage, insertion by seq, scrolling) is left to the browser tests.

import { describe, it, before, after, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';

import { dayKey, dayLabel, toDate } from '../../../crates/chat_http/assets/app/js/render.js';
import { MessageList } from '../../../crates/chat_http/assets/app/js/history.js';

// --- a minimal DOM -------------------------------------------------------------------------

class FakeClassList {
  #set = new Set();
  add(...names) { for (const n of names) this.#set.add(n); }
  remove(...names) { for (const n of names) this.#set.delete(n); }
  contains(name) { return this.#set.has(name); }
  toggle(name, force = !this.#set.has(name)) {
    if (force) this.#set.add(name);
    else this.#set.delete(name);
    return force;
  }
}

class FakeElement {
  constructor(tagName) {
    this.tagName = tagName.toUpperCase();
    this.classList = new FakeClassList();
    this.dataset = {};
    this.attributes = new Map();
    this.children = [];
    this.parentElement = null;
    this.textContent = '';
    this.hidden = false;
  }

  setAttribute(name, value) { this.attributes.set(name, String(value)); }
  getAttribute(name) { return this.attributes.get(name) ?? null; }
  addEventListener() {}

  get #siblings() { return this.parentElement?.children ?? []; }
  get previousElementSibling() { return this.#siblings[this.#siblings.indexOf(this) - 1] ?? null; }
  get nextElementSibling() {
    const i = this.#siblings.indexOf(this);
    return i < 0 ? null : this.#siblings[i + 1] ?? null;
  }
  get lastElementChild() { return this.children.at(-1) ?? null; }

  append(...nodes) { for (const node of nodes) this.insertBefore(node, null); }
  insertBefore(node, ref) {
    node.remove();
    const at = ref ? this.children.indexOf(ref) : this.children.length;
    this.children.splice(at < 0 ? this.children.length : at, 0, node);
    node.parentElement = this;
    return node;
  }
  remove() {
    if (!this.parentElement) return;
    this.parentElement.children.splice(this.parentElement.children.indexOf(this), 1);
    this.parentElement = null;
  }
  replaceChildren(...nodes) {
    for (const child of [...this.children]) child.remove();
    this.append(...nodes);
  }

  // Only the selectors MessageList.layout and the tests use: `:scope > tag.class…`, `.class`.
  querySelectorAll(selector) {
    const scoped = selector.startsWith(':scope > ');
    const [tag, ...classes] = selector.replace(':scope > ', '').split('.');
    const matches = (n) => (!tag || n.tagName === tag.toUpperCase()) && classes.every((c) => n.classList.contains(c));
    const pool = scoped ? this.children : this.#descendants();
    return pool.filter(matches);
  }
  querySelector(selector) { return this.querySelectorAll(selector)[0] ?? null; }
  #descendants() { return this.children.flatMap((c) => [c, ...c.#descendants()]); }
}

// --- helpers -------------------------------------------------------------------------------

/** An `li.message` as renderMessage makes it, for a message at a local date. */
function item(id, senderId, date, { system = false, deleted = false } = {}) {
  const li = new FakeElement('li');
  li.classList.add('message');
  if (system) li.classList.add('system');
  if (deleted) li.classList.add('deleted');
  const created = toDate(date.toISOString());
  Object.assign(li.dataset, { id, senderId, day: dayKey(created), time: String(created.getTime()) });
  const sender = new FakeElement('span');
  sender.classList.add('sender');
  li.append(sender);
  return li;
}

/** A MessageList over a fake `ol` holding these items, laid out. */
function laidOut(items, { separators = true } = {}) {
  const list = new FakeElement('ol');
  list.setAttribute('role', 'log');
  list.append(...items);
  const view = new MessageList({ list, scroller: {}, ctx: {}, separators });
  view.layout();
  return { list, view };
}

const grouped = (li) => li.classList.contains('grouped');
/** The list as text: `[label]` for separators, `id` or `id+` (grouped) for messages. */
const shape = (list) => list.children
  .map((n) => (n.classList.contains('day-separator') ? `[${n.textContent}]` : `${n.dataset.id}${grouped(n) ? '+' : ''}`))
  .join(' ');

const at = (h, m, s = 0, day = 14) => new Date(2024, 2, day, h, m, s); // local time, March 2024
const NOW = new Date(2024, 2, 15, 9, 30); // "today" is 15 March 2024

// --- tests ---------------------------------------------------------------------------------

describe('render.js dayKey/dayLabel (the separators\' text)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: NOW }));
  afterEach(() => mock.timers.reset());

  it('dayKey is the local calendar day as YYYY-MM-DD', () => {
    assert.equal(dayKey(new Date(2024, 0, 5, 23, 59)), '2024-01-05');
    assert.equal(dayKey(new Date(2024, 11, 31, 0, 0)), '2024-12-31');
  });

  it('labels today "Today"', () => {
    assert.equal(dayLabel('2024-03-15'), 'Today');
  });

  it('labels the day before "Yesterday", also across a month boundary', () => {
    assert.equal(dayLabel('2024-03-14'), 'Yesterday');
    mock.timers.setTime(new Date(2024, 2, 1, 0, 1).getTime());
    assert.equal(dayLabel('2024-02-29'), 'Yesterday');
    assert.equal(dayLabel('2024-03-01'), 'Today');
  });

  it('labels an older day with its full date', () => {
    const label = dayLabel('2024-03-13');
    assert.notEqual(label, 'Yesterday');
    assert.match(label, /2024/);
    assert.match(label, /13/);
    const expected = new Date(2024, 2, 13)
      .toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
    assert.equal(label, expected);
  });

  it('labels a future day (clock skew) with its date, not "Today"', () => {
    assert.match(dayLabel('2024-03-16'), /2024/);
  });
});

describe('history.js MessageList.layout: sender grouping', () => {
  before(() => { globalThis.document = { createElement: (tag) => new FakeElement(tag) }; });
  after(() => { delete globalThis.document; });

  it('groups a follow-up from the same sender within 5 minutes and hides its sender name', () => {
    const first = item('a', 'bob', at(10, 0));
    const second = item('b', 'bob', at(10, 4, 59));
    laidOut([first, second], { separators: false });
    assert.equal(grouped(first), false);
    assert.equal(grouped(second), true);
    assert.equal(first.querySelector('.sender').hidden, false);
    assert.equal(second.querySelector('.sender').hidden, true);
  });

  it('does not group a message 5 minutes or more after the previous one', () => {
    const list = [item('a', 'bob', at(10, 0)), item('b', 'bob', at(10, 5)), item('c', 'bob', at(10, 20))];
    laidOut(list, { separators: false });
    assert.deepEqual(list.map(grouped), [false, false, false]);
  });

  it('measures the 5 minutes from the previous message, not the first of the group', () => {
    const list = [item('a', 'bob', at(10, 0)), item('b', 'bob', at(10, 4)), item('c', 'bob', at(10, 8))];
    laidOut(list, { separators: false });
    assert.deepEqual(list.map(grouped), [false, true, true]);
  });

  it('does not group messages of different senders', () => {
    const list = [item('a', 'bob', at(10, 0)), item('b', 'ann', at(10, 1)), item('c', 'bob', at(10, 2))];
    laidOut(list, { separators: false });
    assert.deepEqual(list.map(grouped), [false, false, false]);
  });

  it('does not group around system messages or deleted ones', () => {
    const list = [
      item('a', 'bob', at(10, 0)),
      item('s', 'bob', at(10, 1), { system: true }),
      item('b', 'bob', at(10, 2)),
      item('d', 'bob', at(10, 3), { deleted: true }),
      item('c', 'bob', at(10, 4)),
    ];
    laidOut(list, { separators: false });
    const [, system, afterSystem, deleted, afterDeleted] = list;
    assert.equal(grouped(system), false, 'a system message is never a follow-up');
    assert.equal(grouped(deleted), false, 'a deleted message keeps its sender shown');
    assert.equal(grouped(afterSystem), false, 'nothing follows a system message');
    assert.equal(grouped(afterDeleted), false, 'nothing follows a deleted message');
  });

  it('does not group across midnight, even within 5 minutes', () => {
    const list = [item('a', 'bob', at(23, 58)), item('b', 'bob', at(0, 1, 0, 15))];
    laidOut(list, { separators: false });
    assert.deepEqual(list.map(grouped), [false, false]);
  });

  it('ungroups a message when the one it followed is removed', () => {
    const list = [item('a', 'bob', at(10, 0)), item('b', 'ann', at(10, 1)), item('c', 'ann', at(10, 2))];
    const { view } = laidOut(list, { separators: false });
    assert.deepEqual(list.map(grouped), [false, false, true]);
    list[1].remove();
    view.layout();
    assert.equal(grouped(list[2]), false);
  });
});

describe('history.js MessageList.layout: day separators', () => {
  before(() => {
    globalThis.document = { createElement: (tag) => new FakeElement(tag) };
    mock.timers.enable({ apis: ['Date'], now: NOW });
  });
  after(() => {
    delete globalThis.document;
    mock.timers.reset();
  });

  it('puts one separator before the first message of each day, labelled Today / Yesterday / a date', () => {
    const older = dayLabel('2024-03-10');
    const { list } = laidOut([
      item('a', 'bob', at(9, 0, 0, 10)),
      item('b', 'bob', at(9, 1, 0, 10)),
      item('c', 'bob', at(9, 0, 0, 14)),
      item('d', 'ann', at(9, 0, 0, 15)),
      item('e', 'ann', at(9, 2, 0, 15)),
    ]);
    assert.equal(shape(list), `[${older}] a b+ [Yesterday] c [Today] d e+`);
    const separator = list.children[0];
    assert.equal(separator.getAttribute('role'), 'separator');
    assert.equal(separator.dataset.day, '2024-03-10');
  });

  it('does not add a second separator when laid out again', () => {
    const { list, view } = laidOut([item('a', 'bob', at(9, 0, 0, 14)), item('b', 'bob', at(9, 0, 0, 15))]);
    view.layout();
    view.layout();
    assert.equal(shape(list), '[Yesterday] a [Today] b');
  });

  it('drops a separator whose day has no message left', () => {
    const items = [item('a', 'bob', at(9, 0, 0, 14)), item('b', 'bob', at(9, 0, 0, 15))];
    const { list, view } = laidOut(items);
    items[1].remove();
    view.layout();
    assert.equal(shape(list), '[Yesterday] a');
  });

  it('moves the separator when an older message of the same day is inserted before the first', () => {
    const items = [item('b', 'bob', at(9, 30)), item('c', 'ann', at(9, 31))];
    const { list, view } = laidOut(items);
    assert.equal(shape(list), '[Yesterday] b c');
    list.insertBefore(item('a', 'ann', at(9, 0)), list.children[0]); // an older page, before the separator
    view.layout();
    assert.equal(shape(list), '[Yesterday] a b c');
  });

  it('adds no separators in a list made without them (the thread panel)', () => {
    const { list } = laidOut([item('a', 'bob', at(9, 0, 0, 14)), item('b', 'bob', at(9, 0, 0, 15))], { separators: false });
    assert.equal(shape(list), 'a b');
  });
});
