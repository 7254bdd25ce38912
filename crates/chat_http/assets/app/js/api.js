// HTTP access to the chat server.
//
// Every request carries the credential as `Authorization: Bearer …` (never in the URL).
// The server speaks two dialects; errors come in both shapes and are turned into one
// readable `ApiError`:
//   ChatAPI (/api/v1/…):           {"error": {"code", "message", "details"?}, "status": "error"}
//   account (/api/v1/accounts/…):  {"error": "…"}  or  {"message": "…", "attributes": [...]}

/** An HTTP answer that was not a success, with a message fit to show to people. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the server could not be reached)
   * @param {string} message readable message
   * @param {string|null} code the ChatAPI error code, when there is one
   */
  constructor(status, message, code = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * The readable message of an error body in either dialect.
 * @param {number} status
 * @param {any} body parsed JSON, or null
 * @param {Headers} [headers]
 * @returns {{message: string, code: string|null}}
 */
export function describeError(status, body, headers) {
  const error = body?.error;
  let message = null;
  let code = null;
  if (error && typeof error === 'object') {
    code = error.code ?? null;
    message = error.message ?? null;
  } else if (typeof error === 'string') {
    message = error;
  } else if (typeof body?.message === 'string') {
    message = body.message;
  }
  if (status === 429) {
    const wait = headers?.get('Retry-After');
    message = wait ? `Too many requests: try again in ${wait} s.` : 'Too many requests: try again shortly.';
  }
  return { message: message || `The server answered ${status}.`, code };
}

/** The chat server's HTTP API for one credential. */
export class Api {
  /**
   * @param {string} credential a user credential (scoped key, JWT or user access token)
   * @param {{onUnauthorized?: (error: ApiError) => void}} [hooks] called on any 401
   */
  constructor(credential, hooks = {}) {
    this.credential = credential;
    this.onUnauthorized = hooks.onUnauthorized ?? (() => {});
  }

  /**
   * Sends a request and answers the parsed JSON body (null when empty).
   * @param {string} method
   * @param {string} path absolute path, e.g. `/api/v1/me`
   * @param {{query?: Record<string, any>, body?: any}} [options]
   * @returns {Promise<any>}
   */
  async request(method, path, { query, body } = {}) {
    const headers = { Authorization: `Bearer ${this.credential}`, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(withQuery(path, query), init);
    } catch {
      throw new ApiError(0, 'The server could not be reached. Check your connection.');
    }
    const parsed = await readJson(response);
    if (!response.ok) throw this.#failure(response, parsed);
    return parsed;
  }

  /** @param {Response} response @param {any} parsed */
  #failure(response, parsed) {
    const { message, code } = describeError(response.status, parsed, response.headers);
    const error = new ApiError(response.status, message, code);
    if (response.status === 401) this.onUnauthorized(error);
    return error;
  }

  /** `GET /api/v1/me`: who this credential is. */
  async me() {
    return (await this.request('GET', '/api/v1/me')).data;
  }

  /** The user's rooms in the account dialect (integer `id`, `uuid`, unread counts, members). */
  async accountRooms(accountId) {
    const rooms = await this.request('GET', `/api/v1/accounts/${accountId}/chat_rooms`, { query: { per_page: 100 } });
    return Array.isArray(rooms) ? rooms : [];
  }

  /**
   * One page of a room's history, newest first (ChatAPI dialect, keyset paging).
   * @param {string} roomId the room's UUID
   * @param {{beforeSeq?: number, limit?: number}} [page]
   * @returns {Promise<{messages: object[], hasMore: boolean}>}
   */
  async messages(roomId, { beforeSeq, limit = 50 } = {}) {
    const body = await this.request('GET', `/api/v1/rooms/${roomId}/messages/`, {
      query: { limit, before_seq: beforeSeq },
    });
    const messages = body.data ?? [];
    return { messages, hasMore: body.pagination?.has_more ?? messages.length === limit };
  }

  /** One message (ChatAPI dialect). */
  async message(messageId) {
    return (await this.request('GET', `/api/v1/messages/${messageId}`)).data;
  }

  /** The room's members: `[{user_id, user_name, joined_at, meta}]`. */
  async participants(roomId) {
    return (await this.request('GET', `/api/v1/rooms/${roomId}/participants`, { query: { limit: 1000 } })).data ?? [];
  }

  /** Every member's read and delivered positions: `[{user_id, last_read_seq, last_delivered_seq}]`. */
  async receipts(roomId) {
    return (await this.request('GET', `/api/v1/rooms/${roomId}/receipts`)).data ?? [];
  }

  /** A message's direct replies, oldest first. */
  async thread(messageId) {
    return (await this.request('GET', `/api/v1/messages/${messageId}/thread`, { query: { limit: 100 } })).data ?? [];
  }

  /** `{reply_count, last_reply_at, participants}` of a message's thread. */
  async threadSummary(messageId) {
    return (await this.request('GET', `/api/v1/messages/${messageId}/thread/summary`)).data;
  }

  /** Full-text search across every room of the user. */
  async search(q, limit = 20) {
    return (await this.request('GET', '/api/v1/messages/search', { query: { q, limit } })).data ?? [];
  }

  /** Reacts to a message as the signed-in user; answers the message. */
  async addReaction(messageId, emoji) {
    return (await this.request('POST', `/api/v1/messages/${messageId}/reactions`, { body: { emoji } })).data;
  }

  /** Takes the signed-in user's reaction back; answers the message. */
  async removeReaction(messageId, emoji) {
    return (await this.request('DELETE', `/api/v1/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`)).data;
  }

  /**
   * Sends files (and optional text) to a room through the account dialect, the one that takes
   * multipart bodies. XMLHttpRequest rather than fetch, for upload progress.
   * @param {{accountId: number, roomIntId: number, content: string, echoId: string, files: File[]}} upload
   * @param {(percent: number) => void} onProgress
   * @returns {Promise<object>} the stored message (account dialect)
   */
  upload({ accountId, roomIntId, content, echoId, files }, onProgress) {
    const form = new FormData();
    form.append('chat_room_message[content]', content);
    form.append('chat_room_message[echo_id]', echoId);
    for (const file of files) form.append('chat_room_message[attachments][]', file, file.name);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/v1/accounts/${accountId}/chat_rooms/${roomIntId}/messages`);
      xhr.setRequestHeader('Authorization', `Bearer ${this.credential}`);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.responseType = 'text';
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
      };
      xhr.onerror = () => reject(new ApiError(0, 'The upload failed: the server could not be reached.'));
      xhr.onload = () => {
        const parsed = parseJson(xhr.responseText);
        if (xhr.status >= 200 && xhr.status < 300) return resolve(parsed);
        const headers = new Headers({ 'Retry-After': xhr.getResponseHeader('Retry-After') ?? '' });
        const { message, code } = describeError(xhr.status, parsed, headers);
        const error = new ApiError(xhr.status, message, code);
        if (xhr.status === 401) this.onUnauthorized(error);
        reject(error);
      };
      xhr.send(form);
    });
  }

  /**
   * The URL of a room socket (ChatAPI dialect). WebSockets take the credential only as
   * `?token=`: this is the one place it goes into a URL. Never log the result.
   * @param {string} roomId
   * @param {number} sinceSeq replay the messages after this seq
   */
  roomSocketUrl(roomId, sinceSeq) {
    return socketUrl(`/ws/${roomId}`, { token: this.credential, since_seq: sinceSeq });
  }

  /** The URL of the user's stream (account dialect). Never log the result. */
  streamUrl(accountId) {
    return socketUrl(`/api/v1/accounts/${accountId}/ws`, { token: this.credential });
  }
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function socketUrl(path, query) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${withQuery(path, query)}`;
}

async function readJson(response) {
  return parseJson(await response.text());
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
