// Mentions: `@<user_id>` or `@<first name>` of a room member in the text. The client
// sends the ids it recognised in `meta.mentions`; the server keeps those that are members
// and answers them in the message's `mentions`.

const MENTION = /@([\p{L}\p{N}_.-]+)/gu;

/** The first word of a name, lower-cased (`"Bob Byrne"` → `"bob"`). */
export function firstName(name) {
  return (name ?? '').trim().split(/\s+/)[0].toLowerCase();
}

/**
 * The user_ids mentioned in `text`, each once, in the order named.
 * @param {string} text
 * @param {{user_id: string, user_name: string}[]} people the room's members
 * @param {string} [self] my own user_id (not mentioned)
 * @returns {string[]}
 */
export function findMentions(text, people, self) {
  const found = [];
  for (const match of text.matchAll(MENTION)) {
    const word = match[1].replace(/[.-]+$/, '').toLowerCase();
    const person = people.find((p) => p.user_id.toLowerCase() === word)
      ?? people.find((p) => firstName(p.user_name) === word);
    if (person && person.user_id !== self && !found.includes(person.user_id)) found.push(person.user_id);
  }
  return found;
}

/**
 * The lower-case words that, after `@`, stand for the people a message mentions (their
 * user_ids and first names), for highlighting.
 * @param {string[]} mentioned user_ids
 * @param {(userId: string) => string|undefined} nameOf
 * @returns {Set<string>}
 */
export function mentionTokens(mentioned, nameOf) {
  const tokens = new Set();
  for (const userId of mentioned ?? []) {
    tokens.add(userId.toLowerCase());
    const name = nameOf(userId);
    if (name) tokens.add(firstName(name));
  }
  return tokens;
}
