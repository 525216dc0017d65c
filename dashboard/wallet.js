// @ts-check
// The wallet app (`#/wallet`): a user acts from their own browser wallet. It connects an injected
// EIP-1193 provider (`window.ethereum`: MetaMask, Rabby, Frame), shows the address's roles,
// balances, requests, loans, silos and points, and signs each action with
// `eth_signTypedData_v4`. Nothing protocol-specific is computed here:
// - what to sign comes from the node (`POST /v1/typed-data`), so the page holds no EIP-712 type;
// - every preview is the node's dry run (`POST /v1/dry-run`) on the committed state;
// - a submitted transaction shows pending, then committed with its receipt when the event
//   stream names it (`/v1/events?account=`), or the node's error with its code.
// No private key ever touches the page: the wallet signs, the page only forwards the signature.
//
// Two inputs are prepared in the browser (wallet-actions.js) rather than by the node, because
// they are the user's own:
// a sealed bid's salt (random, kept in this browser's storage, never sent before the reveal)
// and its commitment (keccak-256 by viem over the ABI encoding the node checks), and the
// annual rates a curator types, turned into per-second rates exactly as `Rate::from_apr_bps`
// does (the node's preview then shows the loan's APR and schedule back).
//
// The forms, their field kinds and the actions they build (sealed bids, loan proposals) are in
// wallet-actions.js; this module signs, submits and follows transactions, and builds the page.
//
// The page is one element kept across live refreshes, so what a user types into a form
// survives a new block; only the read-only panels are rebuilt.

import { read } from './api.js';
import { cell, h } from './dom.js';
import * as fmt from './format.js';
import { FORMS, actionOf, connectedAddress, keepSealed, keptSealedBids, wallet } from './wallet-actions.js';

export { rateFromAprBps, sealedBidCommitment } from './wallet-actions.js';

const CHAIN_NAMES = { 1: 'Ethereum', 10: 'OP Mainnet', 137: 'Polygon', 8453: 'Base', 42161: 'Arbitrum One', 11155111: 'Sepolia' };
/** How many of an account's requests, loans and silos the page reads (each is one request). */
const ROWS_MAX = 25;
/** How often a pending transaction is looked up if its events have not named it. */
const POLL_MS = 1500;
/** How many submitted transactions the activity list keeps. */
const ACTIVITY_MAX = 20;
/** How many free receipts the curator's table lists (one read). */
const RECEIPTS_MAX = 100;
/** How many listed requests the listings table shows (one read). */
const LISTINGS_MAX = 100;

/** @type {HTMLElement} */
let root;
const panels = {};

// ---- Talking to the node -----------------------------------------------------------------

/**
 * POST `path` with a JSON body; resolves `{ok, status, body}` (the body of an error too).
 * @template {string} P
 * @param {P & import('./api-types').Documented<P>} path
 * @param {import('./api-types').PostBody<P>} body
 * @returns {Promise<import('./api-types').Posted<P>>}
 */
async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  return { ok: response.ok, status: response.status, body: parsed };
}

/** A node error body or a receipt's error in words: `code` is the snake_case name, and a
 * transaction's result code also carries its `number`. */
function errorText(error) {
  if (!error) return 'unknown error';
  const code = error.number != null ? `${error.code}, number ${error.number}` : error.code;
  return `${error.message} (${code})`;
}

// ---- Signing and submitting --------------------------------------------------------------

function provider() {
  return window.ethereum ?? null;
}

/**
 * Signs `action` in the wallet and submits it; the activity list follows it to its receipt.
 * `onFinal(status)` runs once it is settled: `applied`, `rejected`, `refused` or `declined`.
 * @param {any} action
 * @param {HTMLElement} out
 * @param {((state: string) => void) | null} [onFinal]
 */
async function signAndSubmit(action, out, onFinal = null) {
  const sender = connectedAddress();
  const eth = provider();
  if (!eth || wallet.walletChainId === null) throw new Error('The wallet did not say which chain it is on; connect it again.');
  const entry = activity(action.type ?? 'action', onFinal);
  const typed = await post('/v1/typed-data', { sender, action, signature_chain_id: wallet.walletChainId });
  if (!typed.ok) return settle(entry, 'refused', `Refused before signing: ${errorText(typed.body)}`, typed.body?.code);
  let signature;
  try {
    entry.set('signing', 'Waiting for your wallet to sign…');
    signature = await eth.request({
      method: 'eth_signTypedData_v4',
      params: [wallet.address, JSON.stringify(typed.body.typed_data)],
    });
  } catch (error) {
    const declined = error?.code === 4001;
    return settle(entry, 'declined', declined ? 'You declined to sign in your wallet; nothing was sent.' : `The wallet did not sign: ${error?.message ?? error}`);
  }
  const submitted = await post('/v1/tx', { ...typed.body.transaction, signature });
  if (!submitted.ok) {
    settle(entry, 'refused', `The node refused it: ${errorText(submitted.body)}`, submitted.body?.code);
    out.replaceChildren(h('p', { class: 'error', 'data-error': submitted.body?.code ?? '' }, errorText(submitted.body)));
    return;
  }
  const hash = submitted.body.tx_hash;
  entry.hash(hash);
  entry.set('pending', `Pending: nonce ${typed.body.transaction.nonce}, waiting for a block…`);
  wallet.pending.set(hash, entry);
  poll(hash);
}

/** Looks the transaction up until it is committed (the event stream usually says so first). */
async function poll(hash) {
  const entry = wallet.pending.get(hash);
  if (!entry) return;
  try {
    const status = await read(`/v1/tx/${hash}`, '/v1/tx/{hash}');
    if (status.status !== 'pending') return committed(hash, status);
  } catch {
    // Looked up again below.
  }
  setTimeout(() => poll(hash), POLL_MS);
}

/** Shows a committed transaction's receipt and refreshes the panels. */
function committed(hash, status) {
  const entry = wallet.pending.get(hash);
  if (!entry) return;
  wallet.pending.delete(hash);
  if (status.status === 'applied') {
    const events = (status.events ?? []).map((e) => e.kind).join(', ') || 'no events';
    entry.set('applied', `Committed in block #${status.height}: ${events}.`);
    entry.events(status.events ?? []);
  } else {
    entry.set('rejected', `Rejected in block #${status.height}: ${errorText(status.error)}`, status.error?.code);
  }
  refresh();
}

function settle(entry, state, text, code) {
  entry.set(state, text, code);
}

const FINAL_STATES = ['applied', 'rejected', 'refused', 'declined'];

/** @typedef {ReturnType<typeof activity>} Activity */

/**
 * A new line in the activity list, with setters for its state.
 * @param {string} name
 * @param {((state: string) => void) | null} [onFinal]
 */
function activity(name, onFinal = null) {
  const status = h('span', { class: 'state' }, 'preparing');
  const text = h('span', { class: 'text' }, '');
  const link = h('span', { class: 'hash' });
  const details = h('ul', { class: 'events' });
  const item = h('li', { 'data-action': name, 'data-status': 'preparing' }, h('strong', {}, name.replaceAll('_', ' ')), ' ', status, ' ', link, ' ', text, details);
  panels.activity.prepend(item);
  while (panels.activity.children.length > ACTIVITY_MAX) panels.activity.lastChild.remove();
  return {
    set(state, message, code) {
      item.dataset.status = state;
      if (code) item.dataset.code = code;
      status.textContent = state;
      text.textContent = message;
      if (onFinal && FINAL_STATES.includes(state)) {
        const callback = onFinal;
        onFinal = null;
        callback(state);
      }
    },
    hash(hash) {
      item.dataset.tx = hash;
      link.replaceChildren(h('a', { href: `/v1/tx/${hash}`, target: '_blank', rel: 'noopener', title: hash }, fmt.short(hash)));
    },
    events(events) {
      details.replaceChildren(...events.map(eventLine));
    },
  };
}

function eventLine(event) {
  const fields = Object.entries(event).filter(([k]) => k !== 'kind').map(([k, v]) => `${k.replaceAll('_', ' ')} ${cell(k, v)}`);
  return h('li', { 'data-kind': event.kind }, h('span', { class: 'kind' }, event.kind.replaceAll('_', ' ')), ' ', fields.join(' · '));
}

/** The node's dry run of `action`, shown in `out`. */
async function preview(action, out) {
  if (!wallet.address) throw new Error('Connect a wallet first.');
  const result = await post('/v1/dry-run', { sender: wallet.address, action });
  if (!result.ok) {
    out.replaceChildren(h('p', { class: 'error', 'data-error': result.body?.code ?? '' }, errorText(result.body)));
    return;
  }
  const run = result.body;
  const parts = [];
  if (run.status === 'rejected') {
    parts.push(h('p', { class: 'error', 'data-error': run.error?.code ?? '' }, `Would be rejected: ${errorText(run.error)}`));
  } else {
    parts.push(h('p', { class: 'ok' }, `Would apply on block #${run.height}:`));
    parts.push(h('ul', { class: 'events' }, run.events.map(eventLine)));
    for (const detail of run.requests) {
      const estimate = detail.qev_estimate;
      if (!estimate) continue;
      parts.push(h('p', { 'data-preview': 'request' },
        `Request #${detail.request.id}: position ${estimate.position}, ${fmt.amount(estimate.assets_ahead)} USDai ahead; `,
        estimate.service_at ? `served about ${fmt.time(estimate.service_at)}` : 'waits for new liquidity',
        estimate.bid_to_serve_next_round ? `; a bid of ${fmt.price(estimate.bid_to_serve_next_round)} per share serves it in the next round (${fmt.time(estimate.next_round_at)})` : ''));
    }
    for (const detail of run.loans) {
      const due = detail.schedule?.payment_due_now;
      parts.push(h('p', { 'data-preview': 'loan' }, `Loan #${detail.loan.id}: ${detail.loan.status}, balance ${fmt.amount(detail.loan.balance)}`,
        detail.loan.status === 'proposed' ? `, senior ${fmt.bps(detail.loan.senior.apr_bps)} and junior ${fmt.bps(detail.loan.junior.apr_bps)} a year` : '',
        due ? `, due now ${fmt.amount(due.total)}` : ''));
      if (detail.proposed_schedule) parts.push(scheduleTable(detail.proposed_schedule));
    }
  }
  out.replaceChildren(...parts);
}

/** A proposed loan's payments as the node previewed them. */
function scheduleTable(rows) {
  const total = rows.reduce((sum, row) => sum + BigInt(row.payment), 0n);
  return h('div', { class: 'scroll schedule-preview' },
    h('p', { class: 'note' }, `${rows.length} payments, ${fmt.amount(total.toString())} USDai in all, if accepted now:`),
    h('table', { 'data-preview': 'schedule' },
      h('thead', {}, h('tr', {}, ['#', 'Due', 'Payment', 'Interest', 'Principal', 'Balance after'].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows.map((row, i) => h('tr', { 'data-row': i + 1 },
        h('td', {}, String(i + 1)),
        h('td', { 'data-key': 'due_at', 'data-raw': row.due_at }, fmt.date(row.due_at)),
        h('td', { 'data-key': 'payment', 'data-raw': row.payment }, fmt.amount(row.payment)),
        h('td', { 'data-key': 'interest', 'data-raw': row.interest }, fmt.amount(row.interest)),
        h('td', { 'data-key': 'principal', 'data-raw': row.principal }, fmt.amount(row.principal)),
        h('td', { 'data-key': 'closing_balance', 'data-raw': row.closing_balance }, fmt.amount(row.closing_balance)))))));
}

// ---- The page ----------------------------------------------------------------------------

function formFor(spec) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const form = h('form', { class: spec.wide ? 'action wide' : 'action', 'data-form': spec.type ?? 'raw', 'data-for': spec.for },
    h('h3', {}, spec.title),
    spec.note ? h('p', { class: 'note' }, spec.note) : null,
    spec.type === 'commit_sealed_bid' ? sealedWarning() : null,
    spec.fields.map(([name, label, kind, initial]) => h('label', {}, h('span', {}, label),
      kind === 'json' && name === 'action'
        ? h('textarea', { name, rows: 3, spellcheck: 'false' }, initial ?? '')
        : h('input', { name, value: initial ?? '', inputmode: kind === 'amount' || kind === 'id' ? 'decimal' : null, autocomplete: 'off', spellcheck: 'false' }))),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', 'data-do': 'preview' }, 'Preview'),
      h('button', { type: 'submit', 'data-do': 'submit' }, 'Sign and submit')),
    out);
  const run = async (what) => {
    try {
      const { action, kept } = await actionOf(spec, form, what);
      if (what === 'preview') return await preview(action, out);
      if (!kept) return await signAndSubmit(action, out);
      // Kept before the wallet signs: a page closed after submitting must not lose the salt.
      keepSealed(action.request_id, kept);
      refreshSealed();
      await signAndSubmit(action, out, (final) => {
        if (final === 'applied') keepSealed(action.request_id, { ...kept, state: 'committed' });
        else keepSealed(action.request_id, null);
        refreshSealed();
      });
    } catch (error) {
      out.replaceChildren(h('p', { class: 'error', 'data-error': 'input' }, error.message));
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run('submit');
  });
  /** @type {HTMLElement} */ (form.querySelector('[data-do="preview"]')).addEventListener('click', () => run('preview'));
  return form;
}

function build() {
  panels.connection = h('div', { id: 'wallet-connection' });
  panels.account = h('div', { id: 'wallet-account' });
  panels.requests = h('div', { id: 'wallet-requests' });
  panels.loans = h('div', { id: 'wallet-loans' });
  panels.silos = h('div', { id: 'wallet-silos' });
  panels.sealed = h('div', { id: 'wallet-sealed' });
  panels.listings = h('div', { id: 'wallet-listings' });
  panels.freeReceipts = h('div', { id: 'wallet-receipts' });
  panels.activity = h('ol', { id: 'wallet-activity', class: 'activity' });
  const group = (who, title) => h('section', { class: 'panel forms', 'data-group': who }, h('h2', {}, title),
    h('div', { class: 'form-grid' }, FORMS.filter((f) => f.for === who).map(formFor)));
  root = h('div', { class: 'wallet' },
    h('section', { class: 'panel' }, h('h2', {}, 'Your wallet'), panels.connection, panels.account),
    h('section', { class: 'panel' }, h('h2', {}, 'Activity'),
      h('p', { class: 'note' }, 'What you signed here, from pending to its receipt.'), panels.activity),
    h('section', { class: 'panel' }, h('h2', {}, 'Your redemption requests'), panels.requests),
    h('section', { class: 'panel' }, h('h2', {}, 'Your sealed bids (kept in this browser)'), sealedWarning(), panels.sealed),
    h('section', { class: 'panel' }, h('h2', {}, 'Queue positions for sale'),
      h('p', { class: 'note' }, 'Buying a listed request makes it yours: its place in the queue, its shares and what they are served. You pay the asking price in USDai to the seller.'),
      panels.listings),
    group('depositor', 'Deposit, stake, redeem'),
    h('section', { class: 'panel' }, h('h2', {}, 'Your loans'), panels.loans),
    group('borrower', 'Borrower'),
    h('section', { class: 'panel' }, h('h2', {}, 'Your silos'), panels.silos),
    h('section', { class: 'panel' }, h('h2', {}, 'Receipts free to pledge'),
      h('p', { class: 'note' }, 'Issued or released receipts, with the node\'s value for LTV. Choosing receipts fills the proposal below: their ids and their owner as the borrower.'),
      panels.freeReceipts),
    group('curator', 'Curator'),
    group('anyone', 'Other actions'));
  const eth = provider();
  if (eth?.on) {
    eth.on('accountsChanged', (accounts) => connected(accounts, wallet.walletChainId));
    eth.on('chainChanged', (chainId) => connected(wallet.address ? [wallet.address] : [], chainId));
  }
}

async function connect() {
  const eth = provider();
  if (!eth) throw new Error('No browser wallet found.');
  const accounts = await eth.request({ method: 'eth_requestAccounts' });
  const chainId = await eth.request({ method: 'eth_chainId' });
  await connected(accounts, chainId);
}

async function connected(accounts, chainId) {
  wallet.address = accounts?.[0] ?? null;
  wallet.walletChainId = chainId === null || chainId === undefined ? null : Number(BigInt(chainId));
  if (wallet.stream) wallet.stream.close();
  wallet.stream = null;
  if (wallet.address) {
    // Committed events naming this address: a pending transaction is settled by its own.
    wallet.stream = new EventSource(`/v1/events?account=${wallet.address}`);
    wallet.stream.addEventListener('event', (message) => {
      const feedEvent = JSON.parse(message.data);
      if (feedEvent.tx_hash && wallet.pending.has(feedEvent.tx_hash)) {
        read(`/v1/tx/${feedEvent.tx_hash}`, '/v1/tx/{hash}').then((status) => committed(feedEvent.tx_hash, status)).catch(() => {});
      }
    });
  }
  await refresh();
}

function connectionPanel() {
  const eth = provider();
  if (!eth) {
    return h('p', { 'data-wallet': 'none' }, 'No browser wallet found. Install MetaMask, Rabby or Frame (or open this page in a wallet\'s browser) to act from your own address; everything else on this site reads without one.');
  }
  if (!wallet.address) {
    const button = h('button', { type: 'button', id: 'connect' }, 'Connect wallet');
    button.addEventListener('click', () => connect().catch((error) => {
      panels.connection.append(h('p', { class: 'error' }, `The wallet did not connect: ${error?.message ?? error}`));
    }));
    return h('div', { 'data-wallet': 'disconnected' }, button, h('p', { class: 'note' }, 'Your keys stay in your wallet: this page asks it to sign each action and never sees a private key.'));
  }
  const chainName = CHAIN_NAMES[wallet.walletChainId] ? `${CHAIN_NAMES[wallet.walletChainId]}, ` : '';
  return h('div', { 'data-wallet': 'connected', 'data-address': wallet.address },
    h('p', {}, 'Connected: ', h('code', { id: 'wallet-address' }, wallet.address)),
    h('p', { class: 'note', id: 'wallet-chain', 'data-wallet-chain': wallet.walletChainId, 'data-infrafi-chain': wallet.infrafiChainId },
      `Your wallet is on chain ${wallet.walletChainId} (${chainName}not infrafi). You do not need to switch: `,
      `each signature names infrafi chain ${wallet.infrafiChainId} in its message and your wallet's chain in its domain, `,
      'so it is valid on this infrafi chain only, whichever chain your wallet shows.'));
}

function figureRow(id, label, raw, shown) {
  return h('div', { class: 'figure', 'data-figure': id, 'data-raw': raw ?? null }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, shown));
}

async function accountPanel(account) {
  const balances = account.balances.length === 0
    ? h('p', { class: 'empty' }, 'No balances yet.')
    : h('table', { 'data-table': 'wallet-balances' }, h('thead', {}, h('tr', {}, h('th', {}, 'Asset'), h('th', {}, 'Balance'))),
      h('tbody', {}, account.balances.map((b) => h('tr', { 'data-row': b.asset }, h('td', {}, b.asset), h('td', { 'data-key': 'amount', 'data-raw': b.amount }, fmt.amount(b.amount, 6))))));
  return h('div', { 'data-height': account.height, 'data-address': account.address },
    h('div', { class: 'figures' },
      figureRow('roles', 'Roles', account.roles.join(','), account.roles.length ? account.roles.map((r) => r.replaceAll('_', ' ')).join(', ') : 'none'),
      figureRow('kyc', 'KYC', String(account.kyc_verified), account.kyc_verified ? 'verified' : 'not verified'),
      figureRow('frozen', 'Frozen', String(account.frozen), account.frozen ? 'yes: only compliance can unfreeze' : 'no'),
      figureRow('points', 'Points', account.points, fmt.amount(account.points)),
      figureRow('nonce', 'Next nonce', String(account.next_nonce), String(account.next_nonce))),
    balances,
    h('p', { class: 'note' }, `Read at block #${account.height}.`));
}

async function requestsPanel(account) {
  const ids = account.redemption_requests.slice(0, ROWS_MAX);
  if (ids.length === 0) return h('p', { class: 'empty', 'data-table': 'wallet-requests' }, 'No open requests.');
  const details = await Promise.all(ids.map((id) => read(`/v1/queue/${id}`, '/v1/queue/{id}')));
  const rows = details.map(({ request, qev_estimate: estimate, qev }) => h('tr', { 'data-row': request.id },
    h('td', { 'data-key': 'id' }, `#${request.id}`),
    h('td', { 'data-key': 'status' }, request.status),
    h('td', { 'data-key': 'shares_remaining', 'data-raw': request.shares_remaining }, fmt.amount(request.shares_remaining)),
    h('td', { 'data-key': 'claimable', 'data-raw': request.claimable }, fmt.amount(request.claimable)),
    h('td', { 'data-key': 'position' }, estimate ? String(estimate.position) : '—'),
    h('td', { 'data-key': 'service_at' }, estimate?.service_at ? fmt.time(estimate.service_at) : estimate ? 'needs new liquidity' : '—'),
    h('td', { 'data-key': 'bid_price', 'data-raw': qev.bid_price }, fmt.price(qev.bid_price)),
    h('td', { 'data-key': 'bid_to_serve_next_round' }, estimate?.bid_to_serve_next_round ? fmt.price(estimate.bid_to_serve_next_round) : '—'),
    h('td', { 'data-key': 'listing_price' }, qev.listing_price ? fmt.amount(qev.listing_price) : '—'),
    h('td', {}, useButton('request_id', request.id))));
  return h('div', { class: 'scroll' }, h('table', { 'data-table': 'wallet-requests' },
    h('thead', {}, h('tr', {}, ['Request', 'Status', 'Shares left', 'Claimable USDai', 'Position', 'Served about', 'Your bid', 'Bid for next round', 'Listed at', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

/** A button that puts `value` into every form's `field` (request, loan or silo id). */
function useButton(field, value) {
  const button = h('button', { type: 'button', class: 'use', 'data-use': `${field}:${value}` }, 'use');
  button.addEventListener('click', () => {
    for (const input of root.querySelectorAll(`input[name="${field}"]`)) /** @type {HTMLInputElement} */ (input).value = String(value);
  });
  return button;
}

async function loansPanel() {
  const page = await read(`/v1/loans?borrower=${wallet.address}&limit=${ROWS_MAX}`, '/v1/loans');
  const open = page.loans.filter((loan) => loan.status !== 'repaid' && loan.status !== 'cancelled');
  if (open.length === 0) return h('p', { class: 'empty', 'data-table': 'wallet-loans' }, 'No loans as borrower.');
  const details = await Promise.all(open.map((loan) => read(`/v1/loans/${loan.id}`, '/v1/loans/{id}')));
  const rows = details.map(({ loan, schedule }) => {
    const due = schedule?.payment_due_now;
    return h('tr', { 'data-row': loan.id },
      h('td', { 'data-key': 'id' }, h('a', { href: `#/loans/${loan.id}` }, `#${loan.id}`)),
      h('td', { 'data-key': 'status' }, loan.status, loan.margin_call ? ' · margin call' : ''),
      h('td', { 'data-key': 'balance', 'data-raw': loan.balance }, fmt.amount(loan.balance)),
      h('td', { 'data-key': 'next_due_at' }, schedule ? fmt.time(schedule.next_payment_due_at) : '—'),
      h('td', { 'data-key': 'due_now', 'data-raw': due?.total ?? null }, due ? fmt.amount(due.total) : '—'),
      h('td', { 'data-key': 'grace_interest' }, due && due.grace_interest !== '0' ? fmt.amount(due.grace_interest) : '—'),
      h('td', { 'data-key': 'payments_remaining' }, schedule ? String(schedule.payments_remaining) : '—'),
      h('td', {}, useButton('loan_id', loan.id)));
  });
  return h('div', { class: 'scroll' }, h('table', { 'data-table': 'wallet-loans' },
    h('thead', {}, h('tr', {}, ['Loan', 'Status', 'Balance', 'Next due', 'Due now', 'Grace interest', 'Payments left', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

async function silosPanel(account) {
  if (!account.roles.includes('curator')) return h('p', { class: 'empty', 'data-table': 'wallet-silos' }, 'Not a curator.');
  const page = await read(`/v1/silos?limit=100`, '/v1/silos');
  const me = connectedAddress().toLowerCase();
  const mine = page.silos.filter((silo) => silo.curator.toLowerCase() === me).slice(0, ROWS_MAX);
  if (mine.length === 0) return h('p', { class: 'empty', 'data-table': 'wallet-silos' }, 'No silos yet.');
  const rows = mine.map((silo) => h('tr', { 'data-row': silo.id },
    h('td', { 'data-key': 'id' }, `#${silo.id}`),
    h('td', { 'data-key': 'first_loss_capital', 'data-raw': silo.first_loss_capital }, fmt.amount(silo.first_loss_capital)),
    h('td', { 'data-key': 'first_loss_requirement', 'data-raw': silo.first_loss_requirement }, fmt.amount(silo.first_loss_requirement)),
    h('td', { 'data-key': 'senior_outstanding' }, fmt.amount(silo.senior_outstanding)),
    h('td', { 'data-key': 'loans_outstanding' }, String(silo.loans_outstanding)),
    h('td', { 'data-key': 'frozen' }, silo.frozen ? 'frozen' : 'open'),
    h('td', {}, useButton('silo_id', silo.id))));
  return h('div', { class: 'scroll' }, h('table', { 'data-table': 'wallet-silos' },
    h('thead', {}, h('tr', {}, ['Silo', 'First-loss', 'Required', 'Senior out', 'Loans', 'State', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

/**
 * A table row's result area, kept across the rebuilds a new block causes (so a preview or a
 * refusal shown under a row stays), by `key`.
 */
const rowOutputs = new Map();
function rowOutput(key) {
  if (!rowOutputs.has(key)) rowOutputs.set(key, h('div', { class: 'result', 'aria-live': 'polite' }));
  return rowOutputs.get(key);
}

/** The warning beside sealed bids: the salt is only in this browser. */
function sealedWarning() {
  return h('p', { class: 'warning', 'data-warning': 'sealed-salt' },
    h('strong', {}, 'Your salt is kept only in this browser. '),
    'It is what proves your hidden bid when you reveal it, and it is never sent to the node before then. ',
    'Clearing this site\'s data, a private window, another browser or another device loses it; without it you cannot reveal, ',
    'and an unrevealed bid forfeits ', h('span', { 'data-penalty': '' }, wallet.params ? fmt.bps(wallet.params.unrevealed_penalty_bps) : 'part'),
    ' of its deposit when its round runs. Copy the salt below somewhere safe; a salt kept elsewhere is revealed with the form "Reveal a sealed bid".');
}

/** The connected account's sealed bids kept here, each with what the node holds for it. */
async function sealedPanel() {
  const kept = keptSealedBids();
  if (kept.length === 0) return h('p', { class: 'empty', 'data-table': 'wallet-sealed' }, 'No sealed bids kept in this browser.');
  const details = await Promise.all(kept.map((bid) => read(`/v1/queue/${bid.request_id}`, '/v1/queue/{id}').catch(() => null)));
  const rows = kept.map((bid, i) => {
    const onNode = details[i]?.qev.sealed_bid ?? null;
    const committed = onNode !== null && onNode.commitment.toLowerCase() === bid.commitment.toLowerCase();
    const state = committed ? (onNode.reveal_window_open ? 'open' : 'waiting') : bid.state === 'signing' ? 'unsent' : 'gone';
    const words = {
      open: 'committed; the reveal window is open',
      waiting: committed ? `committed; reveal from ${fmt.time(onNode.reveal_window_opens_at)}` : '',
      unsent: 'not on the node yet: waiting for the signature or the block',
      gone: 'no longer on the node (revealed, expired or cancelled)',
    }[state];
    const out = rowOutput(`sealed:${bid.request_id}`);
    const reveal = h('button', { type: 'button', 'data-do': 'reveal', disabled: !committed }, 'Reveal');
    reveal.addEventListener('click', () => {
      const action = { type: 'reveal_sealed_bid', request_id: bid.request_id, price_wad: bid.price_wad, salt: bid.salt };
      signAndSubmit(action, out, (final) => {
        if (final === 'applied') keepSealed(bid.request_id, null);
        refreshSealed();
      }).catch((error) => out.replaceChildren(h('p', { class: 'error', 'data-error': 'input' }, error.message)));
    });
    const forget = h('button', { type: 'button', 'data-do': 'forget' }, 'Forget');
    forget.addEventListener('click', () => {
      const sure = state === 'gone' || window.confirm(`Forget the salt of request #${bid.request_id}? Without it this bid cannot be revealed.`);
      if (!sure) return;
      keepSealed(bid.request_id, null);
      refreshSealed();
    });
    return h('tr', { 'data-row': bid.request_id, 'data-state': state },
      h('td', { 'data-key': 'id' }, `#${bid.request_id}`),
      h('td', { 'data-key': 'price_wad', 'data-raw': bid.price_wad }, fmt.price(bid.price_wad)),
      h('td', { 'data-key': 'deposit', 'data-raw': bid.deposit }, fmt.amount(bid.deposit)),
      h('td', { 'data-key': 'commitment', 'data-raw': bid.commitment, title: bid.commitment }, fmt.short(bid.commitment)),
      h('td', { 'data-key': 'state' }, words),
      h('td', { 'data-key': 'salt' }, h('details', {}, h('summary', {}, 'show salt'), h('code', { 'data-raw': bid.salt }, bid.salt))),
      h('td', {}, h('div', { class: 'buttons' }, reveal, forget), out));
  });
  return h('div', { class: 'scroll' }, h('table', { 'data-table': 'wallet-sealed' },
    h('thead', {}, h('tr', {}, ['Request', 'Hidden bid per share', 'Deposit', 'Commitment', 'State', 'Salt', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

function refreshSealed() {
  if (!wallet.address) return;
  sealedPanel().then((node) => panels.sealed.replaceChildren(node)).catch(() => {});
}

/** Requests listed for sale, each with a preview and a buy button (at its asking price). */
async function listingsPanel() {
  let page;
  try {
    page = await read(`/v1/queue/listings?limit=${LISTINGS_MAX}`, '/v1/queue/listings');
  } catch (error) {
    return h('p', { class: 'empty', 'data-table': 'wallet-listings' }, `Listings are not available from this node (${error.message}).`);
  }
  if (page.listings.length === 0) return h('p', { class: 'empty', 'data-table': 'wallet-listings' }, 'No requests are listed for sale.');
  const rows = page.listings.map(({ request, price, value_now: valueNow, position_value: positionValue }) => {
    const mine = request.owner.toLowerCase() === connectedAddress().toLowerCase();
    const out = rowOutput(`listing:${request.id}`);
    // Bounded by what the table shows: the asking price and what the request holds now.
    const action = { type: 'buy_request', request_id: request.id, max_price: price, min_value: positionValue };
    const previewButton = h('button', { type: 'button', 'data-do': 'preview' }, 'Preview');
    previewButton.addEventListener('click', () => preview(action, out).catch((error) => out.replaceChildren(h('p', { class: 'error' }, error.message))));
    const buy = h('button', { type: 'button', 'data-do': 'buy', disabled: mine }, mine ? 'yours' : 'Buy');
    buy.addEventListener('click', () => signAndSubmit(action, out).catch((error) => out.replaceChildren(h('p', { class: 'error' }, error.message))));
    return h('tr', { 'data-row': request.id },
      h('td', { 'data-key': 'id' }, `#${request.id}`),
      h('td', { 'data-key': 'owner', title: request.owner }, mine ? 'you' : fmt.short(request.owner)),
      h('td', { 'data-key': 'shares_remaining', 'data-raw': request.shares_remaining }, fmt.amount(request.shares_remaining)),
      h('td', { 'data-key': 'value_now', 'data-raw': valueNow }, fmt.amount(valueNow)),
      h('td', { 'data-key': 'price', 'data-raw': price }, fmt.amount(price)),
      h('td', { 'data-key': 'eligible_at' }, fmt.time(request.eligible_at)),
      h('td', {}, h('div', { class: 'buttons' }, previewButton, buy), out));
  });
  return h('div', { class: 'scroll' }, h('table', { 'data-table': 'wallet-listings' },
    h('thead', {}, h('tr', {}, ['Request', 'Seller', 'Shares', 'Worth now (USDai)', 'Asking (USDai)', 'Eligible', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

/** A curator's choice of collateral: free receipts with the node's value for LTV. */
async function freeReceiptsPanel(account) {
  if (!account.roles.includes('curator')) return h('p', { class: 'empty', 'data-table': 'wallet-receipts' }, 'Not a curator.');
  const pages = await Promise.all(['issued', 'released'].map((status) => read(`/v1/receipts?status=${status}&limit=${RECEIPTS_MAX}`, '/v1/receipts')));
  const free = pages.flatMap((p) => p.receipts).sort((a, b) => a.id - b.id).slice(0, ROWS_MAX);
  if (free.length === 0) return h('p', { class: 'empty', 'data-table': 'wallet-receipts' }, 'No receipt is free to pledge.');
  const details = await Promise.all(free.map((r) => read(`/v1/receipts/${r.id}`, '/v1/receipts/{id}')));
  const choose = () => {
    const chosen = [.../** @type {NodeListOf<HTMLInputElement>} */ (root.querySelectorAll('table[data-table="wallet-receipts"] input[type="checkbox"]:checked'))];
    const form = /** @type {HTMLFormElement} */ (root.querySelector('form[data-form="propose_loan"]'));
    /** @type {HTMLInputElement} */ (form.elements.namedItem('receipts')).value = chosen.map((c) => c.value).join(',');
    const owners = [...new Set(chosen.map((c) => c.dataset.owner))];
    if (owners.length === 1) /** @type {HTMLInputElement} */ (form.elements.namedItem('borrower')).value = owners[0] ?? '';
  };
  const rows = details.map(({ receipt, value_for_ltv: value, eligible, ineligible_reason: reason }) => {
    const box = h('input', { type: 'checkbox', value: String(receipt.id), 'data-owner': receipt.owner, 'aria-label': `receipt ${receipt.id}` });
    box.addEventListener('change', choose);
    return h('tr', { 'data-row': receipt.id },
      h('td', {}, box),
      h('td', { 'data-key': 'id' }, h('a', { href: `#/receipts/${receipt.id}` }, `#${receipt.id}`)),
      h('td', { 'data-key': 'class' }, receipt.class),
      h('td', { 'data-key': 'quantity' }, String(receipt.quantity)),
      h('td', { 'data-key': 'owner', title: receipt.owner }, fmt.short(receipt.owner)),
      h('td', { 'data-key': 'value_for_ltv', 'data-raw': value }, fmt.amount(value)),
      h('td', { 'data-key': 'eligible' }, eligible ? 'yes' : `no: ${reason ?? 'ineligible'}`));
  });
  return h('div', { class: 'scroll' }, h('table', { 'data-table': 'wallet-receipts' },
    h('thead', {}, h('tr', {}, ['', 'Receipt', 'Class', 'Units', 'Owner', 'Value for LTV', 'Eligible'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

let refreshing = null;

/** Re-reads the read-only panels (forms and activity are kept). */
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      if (wallet.infrafiChainId === null) wallet.infrafiChainId = (await read('/v1/status')).chain_id;
      if (wallet.params === null) {
        wallet.params = (await read('/v1/params')).params;
        for (const span of root.querySelectorAll('[data-penalty]')) span.textContent = fmt.bps(wallet.params.unrevealed_penalty_bps);
      }
      panels.connection.replaceChildren(connectionPanel());
      if (!wallet.address) {
        for (const name of ['account', 'requests', 'loans', 'silos', 'sealed', 'listings', 'freeReceipts']) panels[name].replaceChildren();
        return;
      }
      const account = await read(`/v1/accounts/${wallet.address}`, '/v1/accounts/{address}');
      const [accountNode, requests, loans, silos, sealed, listings, freeReceipts] = await Promise.all([
        accountPanel(account), requestsPanel(account), loansPanel(), silosPanel(account), sealedPanel(),
        listingsPanel(), freeReceiptsPanel(account),
      ]);
      panels.account.replaceChildren(accountNode);
      panels.requests.replaceChildren(requests);
      panels.loans.replaceChildren(loans);
      panels.silos.replaceChildren(silos);
      panels.sealed.replaceChildren(sealed);
      panels.listings.replaceChildren(listings);
      // Keep a curator's ticked receipts across a new block (the table is rebuilt).
      const ticked = new Set([...panels.freeReceipts.querySelectorAll('input[type="checkbox"]:checked')].map((c) => c.value));
      panels.freeReceipts.replaceChildren(freeReceipts);
      for (const box of panels.freeReceipts.querySelectorAll('input[type="checkbox"]')) box.checked = ticked.has(box.value);
      root.dataset.height = String(account.height);
    } catch (error) {
      panels.account.replaceChildren(h('p', { class: 'error' }, `The node did not answer: ${error.message}`));
    }
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

/** The page (one element for the page's life: forms keep what was typed). */
export async function page() {
  if (!root) {
    build();
    const eth = provider();
    if (eth) {
      // A wallet that already trusts this site answers without a prompt.
      const accounts = await eth.request({ method: 'eth_accounts' }).catch(() => []);
      if (accounts?.length) {
        await connected(accounts, await eth.request({ method: 'eth_chainId' }));
        return { node: root };
      }
    }
  }
  await refresh();
  return { node: root };
}
