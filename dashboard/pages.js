// The pages. Each is `async (context) => ({ node, after })`: it reads what it shows, builds
// its DOM off-screen (so a live refresh swaps the page in one step) and `after` draws the
// charts once the node is in the document. Values from the API go into text nodes only.

import { NotAvailable, NotFound, read, readOptional, slotProof, stateRoot, tableProof } from './api.js';
import * as fmt from './format.js';

/** Builds an element: `h('div', {class: 'x'}, child, 'text', ...)`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** "read at block #h · root 0x…  proof": where a figure comes from. */
async function stamp(height, proof) {
  const root = await stateRoot(height);
  return h(
    'span',
    { class: 'stamp', 'data-height': height, 'data-root': root },
    h('a', { href: `/v1/blocks/${height}`, title: `block ${height}, state root ${root}`, target: '_blank', rel: 'noopener' },
      `#${height} · ${fmt.short(root)}`),
    proof ? h('a', { class: 'proof', href: proof, target: '_blank', rel: 'noopener' }, 'proof') : null,
  );
}

/** One figure: a label, the formatted value, and its stamp. */
async function figure(id, label, value, { raw, height, proof, note } = {}) {
  return h(
    'div',
    { class: 'figure', 'data-figure': id, 'data-raw': raw ?? null },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    note ? h('div', { class: 'note' }, note) : null,
    await stamp(height, proof),
  );
}

function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

function unavailable(what, path) {
  return h(
    'div',
    { class: 'unavailable', 'data-unavailable': path },
    h('strong', {}, `${what}: not available from this node.`),
    ` It does not serve `,
    h('code', {}, path),
    ` yet; this page fills in once it does.`,
  );
}

/** The array in a list answer: the answer itself, or its first array-valued field. */
function listOf(body) {
  if (Array.isArray(body)) return body;
  if (!body || typeof body !== 'object') return [];
  const field = Object.values(body).find(Array.isArray);
  return field ?? [];
}

/** The height an answer was read at (every read DTO carries one), else the page's. */
function heightOf(body, fallback) {
  return body && typeof body === 'object' && Number.isInteger(body.height) ? body.height : fallback;
}

/** Formats a field of an answer whose shape this page does not know, by its name. */
export function cell(key, value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') {
    if (Array.isArray(value)) return value.length === 0 ? '—' : value.map((v) => cell(key, v)).join(', ');
    return Object.entries(value).map(([k, v]) => `${k}: ${cell(k, v)}`).join(' · ');
  }
  const text = String(value);
  if (/^0x[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$/.test(text)) return fmt.short(text);
  if (/_bps$/.test(key) && /^\d+$/.test(text)) return fmt.bps(text);
  if (/(_at|_until|expiry|expires|maturity|due)$/.test(key) && /^\d{9,11}$/.test(text)) return fmt.time(text);
  if (/(price|_wad)/.test(key) && /^-?\d+$/.test(text)) return fmt.price(text);
  if (/(index|ltv)/.test(key) && /^-?\d+$/.test(text) && text.length > 12) return fmt.price(text);
  if (/^-?\d{13,}$/.test(text)) return fmt.amount(text);
  return text;
}

/** A table of `rows` with `columns` ([key, label] pairs; the ones present are shown). */
function table(rows, columns, { link, proof, id = 'rows' } = {}) {
  const present = columns.filter(([key]) => rows.some((row) => key in row));
  const shown = present.length > 0
    ? present
    : Object.keys(rows[0] ?? {}).filter((k) => typeof rows[0][k] !== 'object').slice(0, 8).map((k) => [k, k]);
  const head = h('tr', {}, shown.map(([, label]) => h('th', {}, label)), proof ? h('th', {}, '') : null);
  const body = rows.map((row) =>
    h(
      'tr',
      { 'data-row': row.id ?? row.rank ?? row.round ?? null },
      shown.map(([key], index) => {
        const text = cell(key, row[key]);
        const content = index === 0 && link ? h('a', { href: link(row) }, text) : text;
        const title = typeof row[key] === 'string' && row[key].startsWith('0x') ? row[key] : null;
        return h('td', { 'data-key': key, 'data-raw': typeof row[key] === 'object' ? null : row[key], title }, content);
      }),
      proof ? h('td', {}, h('a', { class: 'proof', href: proof(row), target: '_blank', rel: 'noopener' }, 'proof')) : null,
    ),
  );
  if (rows.length === 0) return h('p', { class: 'empty', 'data-table': id }, 'None yet.');
  return h('div', { class: 'scroll' }, h('table', { 'data-table': id }, h('thead', {}, head), h('tbody', {}, body)));
}

/** A bar of `value` against `limit` (0..1), with an optional marker at `mark`. */
function bar(fraction, { mark, label } = {}) {
  const width = Math.max(0, Math.min(1, fraction)) * 100;
  return h(
    'div',
    { class: 'bar', title: label ?? `${width.toFixed(1)}%` },
    h('span', { class: fraction > (mark ?? 1) ? 'fill over' : 'fill', style: `width:${width}%` }),
    mark !== undefined ? h('i', { class: 'mark', style: `left:${Math.min(1, mark) * 100}%` }) : null,
  );
}

function lineChart(element, series, { labels, colors, yFormat }) {
  if (!window.uPlot || series[0].length < 1) return;
  const width = Math.max(260, element.clientWidth);
  const options = {
    width,
    height: 220,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: false },
      // A flat series would get uPlot's default 0..2 range; keep a small band around the data.
      y: { range: (u, min, max) => { const pad = Math.max((max - min) * 0.1, Math.abs(max) * 1e-5, 1e-9); return [min - pad, max + pad]; } },
    },
    axes: [
      { label: 'block', stroke: '#57606a' },
      { stroke: '#57606a', size: 84, values: (u, values) => values.map(yFormat) },
    ],
    series: [{ label: 'block' }, ...labels.map((label, i) => ({ label, stroke: colors[i], width: 2, points: { show: series[0].length < 3 } }))],
  };
  element.replaceChildren();
  new window.uPlot(options, series, element);
}

// ---- Overview ------------------------------------------------------------------------------

export async function overview(context) {
  const [reserve, vault, loans] = await Promise.all([
    read('/v1/reserve'),
    read('/v1/vault'),
    readOptional('/v1/loans'),
  ]);
  context.recordPrices(vault);
  const supplyProof = tableProof('ledger.supply', '02');
  const tbillProof = slotProof('reserve.tbill');
  const vaultProof = slotProof('vault.globals');
  const r = reserve.height;
  const v = vault.height;
  const idle = BigInt(vault.unallocated) + BigInt(vault.unvested);
  const deployed = BigInt(vault.senior_principal) + BigInt(vault.senior_accrued_interest) - BigInt(vault.senior_impairment);
  const total = idle + deployed;
  const realised = context.realisedApy();
  // Percent: the T-bill rate (bps / 100) on the idle share of NAV.
  const idleFraction = total === 0n ? 0 : Number((idle * 1000000n) / total) / 1000000;
  const projectedPercent = (Number(reserve.tbill_apr_bps ?? 0) / 100) * idleFraction;

  const reserveFigures = h('div', { class: 'figures' },
    await figure('usdai_supply', 'USDai supply', fmt.amount(reserve.usdai_supply), { raw: reserve.usdai_supply, height: r, proof: supplyProof }),
    await figure('reserve_value', 'Reserve value (USD)', fmt.amount(reserve.reserve_value), { raw: reserve.reserve_value, height: r, proof: tbillProof, note: `${fmt.amount(reserve.tbill_units)} TBILL × ${fmt.price(reserve.tbill_index)}` }),
    await figure('backing_ratio', 'Backing ratio', fmt.ratio(reserve.reserve_value, reserve.usdai_supply), { raw: null, height: r, proof: tbillProof }),
    await figure('tbill_rate', 'T-bill rate', fmt.bps(reserve.tbill_apr_bps ?? '0'), { raw: reserve.tbill_apr_bps, height: r, proof: tbillProof }),
  );
  const vaultFigures = h('div', { class: 'figures' },
    await figure('deposit_price', 'sUSDai deposit price', fmt.price(vault.deposit_price), { raw: vault.deposit_price, height: v, proof: vaultProof }),
    await figure('redemption_price', 'sUSDai redemption price', fmt.price(vault.redemption_price), { raw: vault.redemption_price, height: v, proof: vaultProof }),
    await figure('share_supply', 'sUSDai supply', fmt.amount(vault.share_supply), { raw: vault.share_supply, height: v, proof: vaultProof }),
    await figure('apy_realised', 'APY realised', realised === null ? '—' : `${(realised * 100).toFixed(2)}%`, { height: v, proof: vaultProof, note: realised === null ? 'needs price history over time' : `over ${context.history.length} reads` }),
    await figure('apy_projected', 'APY projected', `${projectedPercent.toFixed(2)}%`, { height: v, proof: vaultProof, note: loans ? 'T-bill carry on idle NAV' : 'T-bill carry on idle NAV (loans not served here)' }),
  );
  const navFigures = h('div', { class: 'figures' },
    await figure('nav_optimistic', 'NAV (deposits)', fmt.amount(vault.nav_optimistic), { raw: vault.nav_optimistic, height: v, proof: vaultProof }),
    await figure('nav_conservative', 'NAV (redemptions)', fmt.amount(vault.nav_conservative), { raw: vault.nav_conservative, height: v, proof: vaultProof }),
    await figure('nav_idle', 'Idle', fmt.amount(idle.toString()), { raw: idle.toString(), height: v, proof: vaultProof, note: 'unallocated + unvested' }),
    await figure('nav_deployed', 'Deployed', fmt.amount(deployed.toString()), { raw: deployed.toString(), height: v, proof: vaultProof, note: 'senior principal + interest − impairment' }),
  );
  const idleShare = total === 0n ? 0 : Number((idle * 10000n) / total) / 10000;
  const split = h('div', { class: 'split', 'data-split': 'nav' },
    idleShare > 0 ? h('span', { class: 'idle', style: `flex-grow:${idleShare}` }, `idle ${(idleShare * 100).toFixed(1)}%`) : null,
    idleShare < 1 ? h('span', { class: 'deployed', style: `flex-grow:${1 - idleShare}` }, `deployed ${((1 - idleShare) * 100).toFixed(1)}%`) : null,
  );
  const mix = loans ? mixOf(listOf(loans)) : unavailable('Genesis / Expansion mix', '/v1/loans');
  const chart = h('div', { class: 'chart', id: 'price-chart' });
  const feed = h('ol', { class: 'feed', id: 'feed' }, context.events.slice(0, 12).map(eventItem));
  const node = h('div', { class: 'page' },
    h('h1', {}, 'Overview'),
    section('USDai and its reserve', reserveFigures),
    section('sUSDai vault', vaultFigures,
      h('h3', {}, 'Share prices, collected by this page from the event stream'), chart),
    section('NAV: idle vs deployed', navFigures, split, h('h3', {}, 'Deployed by class'), mix),
    section('Live events', feed.children.length ? feed : h('p', { class: 'empty', id: 'feed' }, 'Waiting for the next committed event…')),
  );
  const after = () => {
    const points = context.history;
    lineChart(chart, [points.map((p) => p.height), points.map((p) => p.deposit), points.map((p) => p.redemption)], {
      labels: ['deposit price', 'redemption price'],
      colors: ['#1f7a5a', '#b5542a'],
      yFormat: (y) => (y == null ? '' : y.toFixed(6)),
    });
  };
  return { node, after };
}

function mixOf(loans) {
  const byClass = new Map();
  for (const loan of loans) {
    const name = String(loan.class ?? loan.silo_class ?? loan.kind ?? 'unclassified');
    const balance = BigInt(/^\d+$/.test(String(loan.balance ?? '')) ? loan.balance : 0);
    byClass.set(name, (byClass.get(name) ?? 0n) + balance);
  }
  const rows = [...byClass].map(([name, balance]) => ({ class: name, balance: balance.toString() }));
  return table(rows, [['class', 'class'], ['balance', 'balance']], { id: 'mix' });
}

export function eventItem(feedEvent) {
  const kind = feedEvent.event?.kind ?? 'event';
  return h(
    'li',
    { 'data-kind': kind, 'data-tx': feedEvent.tx_hash ?? null },
    h('span', { class: 'kind' }, kind.replaceAll('_', ' ')),
    h('span', { class: 'where' }, `#${feedEvent.height}`),
    feedEvent.tx_hash
      ? h('a', { href: `/v1/tx/${feedEvent.tx_hash}`, target: '_blank', rel: 'noopener', title: feedEvent.tx_hash }, fmt.short(feedEvent.tx_hash))
      : h('span', { class: 'where' }, 'block upkeep'),
  );
}

// ---- Loans ---------------------------------------------------------------------------------

const LOAN_COLUMNS = [
  ['id', 'loan'], ['silo', 'silo'], ['borrower', 'borrower'], ['class', 'class'],
  ['principal', 'principal'], ['balance', 'balance'], ['rate_bps', 'rate'], ['rate', 'rate'],
  ['next_payment_at', 'next payment'], ['next_payment', 'next payment'], ['ltv_bps', 'LTV'], ['ltv', 'LTV'],
  ['status', 'status'],
];

export async function loans(context) {
  const body = await readOptional('/v1/loans');
  const node = h('div', { class: 'page' }, h('h1', {}, 'Loans'));
  if (!body) {
    node.append(section('Every loan', unavailable('Loans', '/v1/loans')));
    return { node };
  }
  const rows = listOf(body);
  const height = heightOf(body, context.height);
  const ltv = rows.some((row) => 'ltv_bps' in row && 'ltv_limit_bps' in row)
    ? h('div', { class: 'ltv-list' }, rows.map((row) =>
      h('div', { class: 'ltv-row' }, h('span', {}, `loan ${row.id}`),
        bar(Number(row.ltv_bps) / Number(row.ltv_limit_bps || 10000) * 0.8, { mark: 0.8, label: `LTV ${fmt.bps(row.ltv_bps)} of limit ${fmt.bps(row.ltv_limit_bps)}` }))))
    : null;
  node.append(section('Every loan', await stamp(height, null),
    table(rows, LOAN_COLUMNS, { id: 'loans', link: (row) => `#/loans/${row.id}` }), ltv));
  return { node };
}

export async function loan(context, id) {
  const node = h('div', { class: 'page' }, h('h1', {}, `Loan ${id}`), h('p', {}, h('a', { href: '#/loans' }, '← all loans')));
  let body;
  try {
    body = await read(`/v1/loans/${encodeURIComponent(id)}`, '/v1/loans/{id}');
  } catch (error) {
    if (error instanceof NotAvailable) node.append(section('Loan', unavailable('Loan pages', '/v1/loans/{id}')));
    else if (error instanceof NotFound) node.append(section('Loan', h('p', { class: 'empty' }, error.message)));
    else throw error;
    return { node };
  }
  const loanObject = body.loan ?? body;
  const height = heightOf(body, context.height);
  const scalars = Object.entries(loanObject).filter(([, v]) => v === null || typeof v !== 'object');
  node.append(section('Terms and state', await stamp(height, body.proof ?? null),
    h('dl', { class: 'facts' }, scalars.map(([k, v]) => [h('dt', {}, k.replaceAll('_', ' ')), h('dd', { 'data-key': k, 'data-raw': v }, cell(k, v))]))));
  for (const [key, value] of Object.entries({ ...loanObject, ...body })) {
    if (key === 'loan' || value === null || typeof value !== 'object') continue;
    const rows = Array.isArray(value) ? value.map((v) => (typeof v === 'object' ? v : { value: v })) : [value];
    node.append(section(key.replaceAll('_', ' '), table(rows, [], { id: key })));
  }
  return { node };
}

// ---- Silos ---------------------------------------------------------------------------------

const SILO_COLUMNS = [
  ['id', 'silo'], ['curator', 'curator'], ['pool_balance', 'first-loss pool'], ['first_loss_required', 'required'],
  ['required_first_loss', 'required'], ['required_first_loss_bps', 'required'], ['senior_cap', 'senior cap'],
  ['senior_outstanding', 'senior used'], ['junior_outstanding', 'junior'], ['losses_absorbed', 'losses absorbed'],
  ['loans_outstanding', 'loans'], ['frozen', 'frozen'],
];

export async function silos(context) {
  const body = await readOptional('/v1/silos');
  const node = h('div', { class: 'page' }, h('h1', {}, 'Silos'));
  if (!body) {
    node.append(section('Every silo', unavailable('Silos', '/v1/silos')));
    return { node };
  }
  const rows = listOf(body);
  const usage = rows.filter((row) => /^\d+$/.test(String(row.senior_cap ?? '')) && BigInt(row.senior_cap) > 0n).map((row) =>
    h('div', { class: 'ltv-row' }, h('span', {}, `silo ${row.id} senior cap`),
      bar(Number((BigInt(row.senior_outstanding ?? 0) * 10000n) / BigInt(row.senior_cap)) / 10000, { mark: 1 })));
  node.append(section('Every silo', await stamp(heightOf(body, context.height), null),
    table(rows, SILO_COLUMNS, { id: 'silos' }), usage.length ? h('div', { class: 'ltv-list' }, usage) : null));
  return { node };
}

// ---- Receipts ------------------------------------------------------------------------------

const RECEIPT_COLUMNS = [
  ['id', 'receipt'], ['custodian', 'custodian'], ['facility', 'facility'], ['class', 'class'],
  ['owner', 'owner'], ['insured', 'insured'], ['insurance_status', 'insurance'], ['policy_expires_at', 'insurance expiry'],
  ['insurance_expires_at', 'insurance expiry'], ['valuation', 'valuation'], ['value', 'value'], ['model_value', 'model value'],
  ['loan', 'loan'], ['status', 'status'],
];

export async function receipts(context, id) {
  const node = h('div', { class: 'page' }, h('h1', {}, id === undefined ? 'Receipts' : `Receipt ${id}`));
  if (id !== undefined) {
    node.append(h('p', {}, h('a', { href: '#/receipts' }, '← all receipts')));
    let body;
    try {
      body = await read(`/v1/receipts/${encodeURIComponent(id)}`, '/v1/receipts/{id}');
    } catch (error) {
      if (error instanceof NotAvailable) node.append(section('Receipt', unavailable('Receipt pages', '/v1/receipts/{id}')));
      else if (error instanceof NotFound) node.append(section('Receipt', h('p', { class: 'empty' }, error.message)));
      else throw error;
      return { node };
    }
    const receipt = body.receipt ?? body;
    node.append(section('Receipt', await stamp(heightOf(body, context.height), body.proof ?? null),
      h('dl', { class: 'facts' }, Object.entries(receipt).filter(([, v]) => typeof v !== 'object' || v === null)
        .map(([k, v]) => [h('dt', {}, k.replaceAll('_', ' ')), h('dd', { 'data-key': k }, cell(k, v))]))));
    const history = body.valuation_history ?? body.valuations ?? receipt.valuation_history ?? null;
    if (Array.isArray(history)) node.append(section('Valuation history vs the depreciation model', table(history, [], { id: 'valuations' })));
    return { node };
  }
  const body = await readOptional('/v1/receipts');
  if (!body) {
    node.append(section('Every receipt', unavailable('Receipts', '/v1/receipts')));
    return { node };
  }
  node.append(section('Every receipt', await stamp(heightOf(body, context.height), null),
    table(listOf(body), RECEIPT_COLUMNS, { id: 'receipts', link: (row) => `#/receipts/${row.id}` })));
  return { node };
}

// ---- Queue ---------------------------------------------------------------------------------

export async function queue(context) {
  const [body, rounds, listings] = await Promise.all([
    read('/v1/queue?limit=1000'),
    readOptional('/v1/queue/rounds'),
    readOptional('/v1/queue/listings'),
  ]);
  const height = body.height;
  const proof = slotProof('queue.globals');
  const active = body.requests.filter((r) => r.status !== 'served');
  const last = active[active.length - 1];
  const estimate = last ? await read(`/v1/queue/${last.id}`, '/v1/queue/{id}') : null;
  const now = context.timestamp ?? 0;
  let wait = 'next round';
  if (estimate) {
    const at = estimate.estimate.estimated_service_at;
    wait = at === null ? 'waits for new liquidity' : `≥ ${fmt.duration(at - now)}`;
  }
  const figures = h('div', { class: 'figures' },
    await figure('rounds', 'Rounds run', String(body.rounds), { raw: String(body.rounds), height, proof }),
    await figure('last_round_at', 'Last round', fmt.time(body.last_round_at), { raw: body.last_round_at, height, proof }),
    await figure('round_liquidity', 'Round liquidity (USDai)', fmt.amount(body.round_liquidity), { raw: body.round_liquidity, height, proof }),
    await figure('locked_shares', 'Shares in the queue', fmt.amount(body.locked_shares), { raw: body.locked_shares, height, proof }),
    await figure('estimated_wait', 'Estimated wait, new request', wait, {
      height: estimate?.height ?? height,
      proof: last ? `/v1/proofs/queue/${last.id}` : proof,
      note: last ? `behind request ${last.id}: ${fmt.amount(estimate.estimate.shares_ahead)} shares ahead of it` : 'the queue is empty',
    }),
  );
  // Depth by bid: shares waiting at each priority bid, highest bid first (served first).
  const depth = new Map();
  for (const request of active) depth.set(request.bid_price, (depth.get(request.bid_price) ?? 0n) + BigInt(request.shares_remaining));
  const levels = [...depth].sort((a, b) => (BigInt(b[0]) > BigInt(a[0]) ? 1 : -1));
  const deepest = levels.reduce((m, [, s]) => (s > m ? s : m), 1n);
  const depthNode = levels.length === 0 ? h('p', { class: 'empty' }, 'No request is waiting.') : h('div', { class: 'depth', 'data-table': 'depth' },
    levels.map(([bid, shares]) => h('div', { class: 'ltv-row', 'data-bid': bid },
      h('span', {}, `bid ${fmt.price(bid)}`), bar(Number((shares * 10000n) / deepest) / 10000), h('span', { class: 'num' }, fmt.amount(shares.toString())))));
  const roundChart = h('div', { class: 'chart', id: 'round-chart' });
  let roundRows = [];
  let roundsNode;
  if (!rounds) {
    roundsNode = unavailable('Clearing price per round', '/v1/queue/rounds');
  } else {
    roundRows = listOf(rounds);
    roundsNode = h('div', {}, await stamp(heightOf(rounds, height), null), roundChart,
      table(roundRows, [['round', 'round'], ['at', 'at'], ['clearing_price_wad', 'clearing price'], ['clearing_price', 'clearing price'],
        ['clearing_price_ema_wad', 'average'], ['requests_served', 'served'], ['served_assets', 'USDai out'], ['jumpers', 'jumpers']], { id: 'rounds' }));
  }
  const listingsNode = listings
    ? h('div', {}, await stamp(heightOf(listings, height), null), table(listOf(listings), [], { id: 'listings' }))
    : unavailable('Listings', '/v1/queue/listings');
  const node = h('div', { class: 'page' },
    h('h1', {}, 'Redemption queue'),
    section('Queue', figures),
    section('Depth by bid', depthNode),
    section('Clearing price per round', roundsNode),
    section('Positions listed for sale', listingsNode),
    section('Requests', await stamp(height, null), table(body.requests, [
      ['id', 'id'], ['owner', 'owner'], ['shares_remaining', 'shares'], ['bid_price', 'bid'], ['eligible_at', 'eligible'],
      ['claimable', 'claimable'], ['status', 'status']], { id: 'requests', proof: (row) => `/v1/proofs/queue/${row.id}` })),
  );
  const after = () => {
    if (roundRows.length === 0) return;
    const priceOf = (row) => fmt.toFloat(row.clearing_price_wad ?? row.clearing_price ?? 0);
    const prices = roundRows.map(priceOf);
    const mean = prices.reduce((a, b) => a + b, 0) / prices.length;
    lineChart(roundChart, [roundRows.map((row, i) => row.round ?? i), prices, prices.map(() => mean)], {
      labels: ['clearing price', 'average'], colors: ['#1f5f9a', '#8a8f98'], yFormat: (y) => (y == null ? '' : y.toFixed(4)),
    });
  };
  return { node, after };
}

// ---- Points --------------------------------------------------------------------------------

export async function points(context) {
  const body = await read('/v1/points/leaderboard?limit=100');
  const node = h('div', { class: 'page' }, h('h1', {}, 'Points'),
    section('Leaderboard', await stamp(body.height, null),
      table(body.leaders, [['rank', 'rank'], ['address', 'account'], ['points', 'points']], {
        id: 'leaders', proof: (row) => `/v1/proofs/balances/${row.address}/USDai`,
      })));
  return { node };
}
