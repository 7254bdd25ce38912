// One message as an `li.message`, and the small updates made to it in place (reactions,
// reply count, ticks, edits) so that focus inside it survives live events.

import { el, clear, timeElement, richText, snippet, formatBytes, dayKey, toDate } from './render.js';
import { TICK_LABELS } from './receipts.js';

/**
 * What rendering needs from the room.
 * @typedef {object} RenderContext
 * @property {string} self my user_id
 * @property {'history'|'thread'|'parent'} place where the message is shown
 * @property {(userId: string) => string|undefined} nameOf a member's name
 * @property {(message: any) => Set<string>} mentionTokensOf words to highlight after `@`
 * @property {(seq: number) => 'sent'|'delivered'|'read'} tickStatus
 * @property {(messageId: string) => Promise<any|null>} resolveQuote the replied-to message
 */

const TICK_GLYPHS = { sent: '✓', delivered: '✓✓', read: '✓✓' };

/**
 * Renders a stored message.
 * @param {any} message ChatAPI message
 * @param {RenderContext} ctx
 * @returns {HTMLLIElement}
 */
export function renderMessage(message, ctx) {
  const own = message.sender_id === ctx.self;
  const li = el('li.message', {
    dataset: {
      id: message.id,
      seq: message.seq,
      senderId: message.sender_id,
      own: String(own),
      day: dayKey(toDate(message.created_at)),
      time: toDate(message.created_at).getTime(),
    },
  });
  li.classList.toggle('own', own);
  li.classList.toggle('system', message.message_type === 'system');
  li.classList.toggle('mentions-me', (message.mentions ?? []).includes(ctx.self));
  li.append(
    head(message.sender_name ?? ctx.nameOf(message.sender_id) ?? message.sender_id, message),
    message.reply_to && ctx.place !== 'thread' ? quote(message.reply_to, ctx) : '',
    el('div.content'),
    el('div.attachments'),
    el('div.message-foot', {}, el('div.reactions')),
  );
  if (message.is_deleted) {
    li.classList.add('deleted');
  } else {
    li.append(actions(ctx.place));
  }
  patchMessage(li, message, ctx);
  return li;
}

/**
 * Renders a message being sent (no id or seq yet).
 * @param {import('./store.js').Pending} pending
 * @param {RenderContext} ctx
 */
export function renderPending(pending, ctx) {
  const li = el('li.message.own.pending', {
    dataset: {
      pending: 'true',
      echoId: pending.echo_id,
      senderId: pending.sender_id,
      own: 'true',
      day: dayKey(toDate(pending.created_at)),
      time: toDate(pending.created_at).getTime(),
    },
  });
  const files = pending.file_names.length
    ? el('ul.pending-files', {}, pending.file_names.map((name) => el('li', { text: name })))
    : '';
  li.append(
    head(pending.sender_name, pending),
    pending.reply_to && ctx.place !== 'thread' ? quote(pending.reply_to, ctx) : '',
    el('div.content', {}, richText(pending.content)),
    files,
    el('div.message-foot', {}, sendState(pending)),
  );
  return li;
}

/** Updates the "Sending…" / "Not sent" part of a pending message. */
export function patchPending(li, pending) {
  li.toggleAttribute('data-failed', pending.failed);
  li.querySelector('.send-state')?.replaceWith(sendState(pending));
}

function sendState(pending) {
  if (!pending.failed) return el('span.send-state', { text: 'Sending…' });
  return el('span.send-state.failed', {},
    el('span', { text: `Not sent${pending.error ? `: ${pending.error}` : ''}. ` }),
    el('button.retry.small', { type: 'button', text: 'Retry' }),
    ' ',
    el('button.discard.small.ghost', { type: 'button', text: 'Discard' }));
}

function head(name, message) {
  return el('div.message-head', {},
    el('span.sender', { text: name }),
    timeElement(message.created_at),
    message.edited_at && !message.is_deleted ? el('span.edited', { text: '(edited)' }) : '');
}

function quote(replyTo, ctx) {
  const sender = el('span.reply-sender', { text: '…' });
  const text = el('span.reply-text');
  const node = el('button.reply-quote', { type: 'button', title: 'Show the original message', dataset: { replyTo } },
    el('span.visually-hidden', { text: 'In reply to ' }), sender, ' ', text);
  ctx.resolveQuote(replyTo).then((original) => {
    if (!original) {
      sender.textContent = 'Original message unavailable';
      return;
    }
    sender.textContent = original.sender_name ?? original.sender_id;
    text.textContent = original.is_deleted ? 'This message was deleted' : snippet(original.content, 100) || 'Attachment';
    node.dataset.replySeq = original.seq;
  });
  return node;
}

function actions(place) {
  const group = el('div.actions', { role: 'group', 'aria-label': 'Message actions' },
    el('button.action-react', { type: 'button', 'aria-label': 'Add reaction', 'aria-expanded': 'false', title: 'Add reaction', text: '☺' }));
  if (place === 'history') {
    group.append(
      el('button.action-reply', { type: 'button', 'aria-label': 'Reply', title: 'Reply', text: '↩' }),
      el('button.action-thread', { type: 'button', 'aria-label': 'Open thread', title: 'Open thread', text: '💬' }),
    );
  }
  return group;
}

/**
 * Brings a rendered message up to date with `message`, keeping its nodes (and focus).
 * @param {HTMLLIElement} li
 * @param {any} message
 * @param {RenderContext} ctx
 */
export function patchMessage(li, message, ctx) {
  const content = li.querySelector('.content');
  if (message.is_deleted) {
    clear(content).append(el('em', { text: 'This message was deleted' }));
  } else {
    clear(content).append(...richText(message.content, ctx.mentionTokensOf(message)));
  }
  patchEdited(li, message);
  patchAttachments(li.querySelector('.attachments'), message.is_deleted ? [] : message.attachments ?? []);
  patchReactions(li.querySelector('.reactions'), message.is_deleted ? [] : message.reactions ?? [], ctx);
  patchThreadLink(li, ctx.place === 'history' ? message.reply_count ?? 0 : 0);
  if (li.dataset.own === 'true') patchTicks(li, ctx.tickStatus(message.seq));
}

function patchEdited(li, message) {
  const existing = li.querySelector('.edited');
  const edited = Boolean(message.edited_at) && !message.is_deleted;
  if (edited && !existing) li.querySelector('.message-head').append(el('span.edited', { text: '(edited)' }));
  if (!edited && existing) existing.remove();
}

function patchAttachments(box, attachments) {
  const key = attachments.map((a) => a.id).join(',');
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  clear(box).append(...attachments.map(attachment));
}

function attachment(file) {
  if (file.file_type === 'image' && file.thumb_url) {
    return el('a.attachment-image', { href: file.data_url, target: '_blank', rel: 'noopener noreferrer' },
      el('img.attachment-preview', {
        src: file.thumb_url,
        alt: file.name ?? 'image',
        width: file.width,
        height: file.height,
        loading: 'lazy',
      }));
  }
  const label = `Download ${file.extension ? `.${file.extension} ` : ''}file (${formatBytes(file.file_size ?? 0)})`;
  return el('a.attachment-file', { href: file.data_url, download: '', rel: 'noopener noreferrer', text: label });
}

/** Sets the reaction buttons to `reactions`, changing only what differs. */
function patchReactions(box, reactions, ctx) {
  const wanted = new Map(reactions.map((r) => [r.emoji, r]));
  for (const button of [...box.querySelectorAll('button.reaction')]) {
    if (!wanted.has(button.dataset.emoji)) button.remove();
  }
  let previous = null;
  for (const reaction of reactions) {
    let button = [...box.children].find((b) => b.dataset.emoji === reaction.emoji);
    if (!button) {
      button = el('button.reaction', { type: 'button', dataset: { emoji: reaction.emoji } },
        `${reaction.emoji} `, el('span.count'));
    }
    const mine = reaction.user_ids.includes(ctx.self);
    button.setAttribute('aria-pressed', String(mine));
    button.querySelector('.count').textContent = String(reaction.count);
    button.title = reaction.user_ids.map((id) => ctx.nameOf(id) ?? id).join(', ');
    const place = previous ? previous.nextElementSibling : box.firstElementChild;
    if (place !== button) box.insertBefore(button, place);
    previous = button;
  }
}

function patchThreadLink(li, count) {
  let link = li.querySelector('.thread-link');
  if (count <= 0) {
    link?.remove();
    return;
  }
  if (!link) {
    link = el('button.thread-link', { type: 'button' });
    li.querySelector('.message-foot').append(link);
  }
  link.textContent = count === 1 ? '1 reply' : `${count} replies`;
}

/** Sets the ticks of one of my messages. */
export function patchTicks(li, status) {
  let ticks = li.querySelector('.ticks');
  if (!ticks) {
    ticks = el('span.ticks', { role: 'img' });
    li.querySelector('.message-head').append(ticks);
  }
  if (ticks.dataset.status === status) return;
  ticks.dataset.status = status;
  ticks.setAttribute('aria-label', TICK_LABELS[status]);
  ticks.title = TICK_LABELS[status];
  ticks.textContent = TICK_GLYPHS[status];
}
