// @ts-check
// Reads from the node's public API. Which endpoints this node serves is read once from its
// own route table (`/openapi.json`), so a page for an object the node does not serve yet
// shows "not available from this node" without a failing request; a 404 `route_not_found`
// is treated the same way, should the table and the router ever disagree.

export class NotAvailable extends Error {
  constructor(path) {
    super(`${path} is not available from this node`);
    this.path = path;
  }
}

export class NotFound extends Error {
  constructor(path, body) {
    super(body?.message ?? `${path}: not found`);
    this.path = path;
    this.code = body?.code;
  }
}

let routes = null;

/** The GET route templates this node lists (`/v1/queue/{id}`, ...). */
async function routeTable() {
  if (!routes) {
    routes = fetch('/openapi.json')
      .then((response) => response.json())
      .then((document) => new Set(Object.entries(document.paths).filter(([, m]) => m.get).map(([p]) => p)));
  }
  return routes;
}

/**
 * Whether the node lists `template` exactly. Templates, not patterns: `/v1/queue/rounds`
 * would match the pattern of `/v1/queue/{id}` and ask for a request named "rounds".
 */
export async function serves(template) {
  return (await routeTable()).has(template.split('?')[0]);
}

/**
 * @template {string} P
 * @overload
 * @param {P & import('./api-types').Documented<P>} path
 * @returns {Promise<import('./api-types').GetAnswer<P>>}
 */
/**
 * @template {string} T
 * @overload
 * @param {string} path
 * @param {T & import('./api-types').Documented<T>} template
 * @returns {Promise<import('./api-types').GetAnswer<T>>}
 */
/**
 * GET `path` as JSON, if the node lists `template` (the path itself when it has no
 * parameters); throws NotAvailable, NotFound or Error.
 * @param {string} path
 * @param {string} [template]
 */
export async function read(path, template = path) {
  if (!(await serves(template))) throw new NotAvailable(template);
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 404) {
    if (!body || body.code === 'route_not_found') throw new NotAvailable(path);
    throw new NotFound(path, body);
  }
  if (!response.ok) throw new Error(`${path}: ${response.status} ${body?.code ?? ''}`);
  return body;
}

/**
 * @template {string} P
 * @overload
 * @param {P & import('./api-types').Documented<P>} path
 * @returns {Promise<import('./api-types').GetAnswer<P> | null>}
 */
/**
 * @template {string} T
 * @overload
 * @param {string} path
 * @param {T & import('./api-types').Documented<T>} template
 * @returns {Promise<import('./api-types').GetAnswer<T> | null>}
 */
/**
 * GET `path`, or `null` when the node does not serve it (`read`'s types).
 * @param {string} path
 * @param {string} [template]
 */
export async function readOptional(path, template = path) {
  try {
    // The overloads above type the call; `template` is checked there.
    return await read(path, /** @type {any} */ (template));
  } catch (error) {
    if (error instanceof NotAvailable) return null;
    throw error;
  }
}

const roots = new Map();

/** The state root committed at `height` (from its header; cached, headers never change). */
export async function stateRoot(height) {
  if (height === undefined || height === null) return null;
  if (!roots.has(height)) {
    roots.set(
      height,
      read(`/v1/blocks/${height}`, '/v1/blocks/{height}').then((block) => block.header.state_root),
    );
  }
  try {
    return await roots.get(height);
  } catch (error) {
    roots.delete(height);
    throw error;
  }
}

/** Hex of a UTF-8 string, for leaf keys: a slot's key is its field path. */
export function slotKey(path) {
  return '0x' + [...new TextEncoder().encode(path)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The proof of a slot leaf (`reserve.tbill`, `vault.globals`, ...). */
export function slotProof(path) {
  return `/v1/proofs/leaves/${slotKey(path)}`;
}

/** A table leaf whose encoded entry key is one byte (`ledger.supply` of an asset). */
export function tableProof(path, keyHex) {
  return `/v1/proofs/leaves/${slotKey(path)}00${keyHex}`;
}

const historyCache = new Map();

/**
 * One history series (`/v1/history/{series}`) over the `days` before the node's latest sample,
 * or null when the node records no history. Cached until the node records a new sample (the
 * index `/v1/history` says when it last did), so a live refresh re-reads only the index.
 */
export async function history(series, days = 90) {
  if (!(await serves('/v1/history/{series}'))) return null;
  const index = await read('/v1/history');
  if (index.latest_at === null) return { series, points: [] };
  const key = `${series}/${days}`;
  const cached = historyCache.get(key);
  if (cached && cached.latestAt === index.latest_at) return cached.body;
  const from = Math.max(0, index.latest_at - days * 86_400);
  const body = await read(`/v1/history/${series}?from=${from}&to=${index.latest_at}`, '/v1/history/{series}');
  historyCache.set(key, { latestAt: index.latest_at, body });
  return body;
}
