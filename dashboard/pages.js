// @ts-check
// The pages. Each is `async (context) => ({ node, after })`: it reads what it shows, builds
// its DOM off-screen (so a live refresh swaps the page in one step) and `after` draws the
// charts once the node is in the document. Values from the API go into text nodes only. The
// credit pages (loans, silos, receipts) are in credit.js; the DOM pieces every page uses in dom.js.

import { history, read, readOptional, slotProof, stateRoot, tableProof } from './api.js';
import { alignHistory, bar, grid, h, lastPoint, lineChart, section, table, unavailable } from './dom.js';
import * as fmt from './format.js';

// The shell (app.js) builds its own few elements with the pages' `h`.
export { h } from './dom.js';

/**
 * What a page shows: its DOM, built off-screen, and what to draw once it is in the document.
 * @typedef {{node: HTMLElement, after?: () => void}} Page
 */
/**
 * One committed event as `/v1/events` streams it (server-sent, so not in `/openapi.json`).
 * @typedef {{height: number, tx_hash?: string | null, event?: {kind: string} | null}} FeedEvent
 */
/**
 * What every page reads from the shell: the head it follows and the latest events.
 * @typedef {{height: number | null, timestamp: number | null, events: FeedEvent[]}} Context
 */
/** @typedef {import('./dom.js').Child} Child */
/**
 * @template R
 * @typedef {import('./dom.js').Column<R>} Column
 */

/**
 * "read at block #h · root 0x…  proof": where a figure comes from.
 * @param {number | null | undefined} height
 * @param {string | null} [proof]
 */
export async function stamp(height, proof) {
  const root = await stateRoot(height);
  return h(
    'span',
    { class: 'stamp', 'data-height': height, 'data-root': root },
    h('a', { href: `/v1/blocks/${height}`, title: `block ${height}, state root ${root}`, target: '_blank', rel: 'noopener' },
      `#${height} · ${fmt.short(root)}`),
    proof ? h('a', { class: 'proof', href: proof, target: '_blank', rel: 'noopener' }, 'proof') : null,
  );
}

/**
 * One figure: a label, the formatted value, and its stamp.
 * @param {string} id its `data-figure`
 * @param {string} label
 * @param {Child} value as shown
 * @param {{
 *   height: number | null | undefined, raw?: string | number | null, proof?: string | null,
 *   note?: string | null,
 * }} where the API value shown (`data-raw`), the block it was read at, its proof and a note
 */
export async function figure(id, label, value, { raw, height, proof, note }) {
  return h(
    'div',
    { class: 'figure', 'data-figure': id, 'data-raw': raw ?? null },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    note ? h('div', { class: 'note' }, note) : null,
    await stamp(height, proof),
  );
}

// ---- Overview ------------------------------------------------------------------------------

/** The realised APY figure of a window, from the node's history. */
async function apyFigure(body, days, fallbackHeight, proof) {
  const last = lastPoint(body);
  const label = `APY realised, ${days} days`;
  if (!body) return figure(`apy_realised_${days}d`, label, '—', { height: fallbackHeight, proof, note: 'this node records no history' });
  if (!last) return figure(`apy_realised_${days}d`, label, '—', { height: fallbackHeight, proof, note: `needs ${days} days of history` });
  return figure(`apy_realised_${days}d`, label, fmt.bps(last.value), {
    raw: last.value, height: last.height, proof, note: `deposit price growth, annualised, to ${fmt.time(last.timestamp)}`,
  });
}

/**
 * The backing figures: the attested ratio (the custodian's market value over the supply) is
 * the headline when an attestation exists; the ledger's own ratio (TBILL x index) beside it.
 */
async function reserveBackingFigures(reserve, height, proof) {
  const attested = reserve.attested;
  const attestationProof = attested ? tableProof('reserve.attestations', fmt.postcardU64(attested.attestation.id)) : proof;
  const ledger = await figure('ledger_backing', 'Backing (ledger)', fmt.ratio(reserve.reserve_value, reserve.usdai_supply), { raw: reserve.ledger_backing_bps ?? null, height, proof, note: 'TBILL × index over supply: the protocol\'s own record' });
  if (!attested) {
    return [
      await figure('backing_ratio', 'Backing ratio', 'not attested', { raw: null, height, proof, note: reserve.attestation_required ? 'no attestation yet: minting waits for one' : 'no reserve attestation posted' }),
      ledger,
    ];
  }
  const stale = attested.is_stale ? ' · STALE: minting refused' : '';
  return [
    await figure('backing_ratio', 'Backing ratio (attested)', attested.backing_bps === null ? '—' : fmt.bps(attested.backing_bps), { raw: attested.backing_bps, height, proof: attestationProof, note: `attested market value over supply${stale}` }),
    ledger,
    await figure('attested_value', 'Attested reserve value', fmt.amount(attested.attestation.market_value), { raw: attested.attestation.market_value, height, proof: attestationProof, note: `par ${fmt.amount(attested.attestation.par_amount)}, as of ${fmt.time(attested.attestation.as_of)}` }),
    await figure('attestation_age', 'Attestation age', fmt.duration(attested.age_secs), { raw: String(attested.age_secs), height, proof: attestationProof, note: `stale after ${fmt.duration(reserve.attestation_max_age_secs)}${stale}` }),
    await figure('attestor', 'Attested by', fmt.short(attested.attestation.custodian), { raw: attested.attestation.custodian, height, proof: attestationProof, note: `reserve custodian; statement ${fmt.short(attested.attestation.document_hash)}, posted ${fmt.time(attested.attestation.posted_at)}` }),
    await figure('mint_headroom', 'Mint headroom', fmt.amount(attested.mint_headroom), { raw: attested.mint_headroom, height, proof: attestationProof, note: `attested + ${fmt.bps(reserve.attestation_tolerance_bps)} tolerance, less supply` }),
  ];
}

/**
 * The gateway's per-hour limits: what may still be minted and redeemed now.
 * @param {import('./api-types').GetAnswer<'/v1/reserve'>} reserve
 * @param {number} height
 */
async function rateLimitFigures(reserve, height) {
  const limits = reserve.rate_limits;
  if (!limits) return [];
  const proof = slotProof('reserve.flows');
  const one = (id, label, limit, verb) => figure(id, label, limit.room === null ? 'no limit' : fmt.amount(limit.room), {
    raw: limit.room, height, proof,
    note: limit.room === null ? `no per-hour ${verb} limit` : `of ${fmt.amount(limit.limit_per_hour)} an hour; ${fmt.amount(limit.used)} ${verb}ed in the last hour, draining`,
  });
  return [
    await one('mint_room', 'Mint room now', limits.mint, 'mint'),
    await one('redeem_room', 'Redeem room now', limits.redeem, 'redeem'),
  ];
}

/**
 * The attestation history (newest first), or a note when this node does not serve it.
 * @param {import('./api-types').GetAnswer<'/v1/reserve/attestations'> | null} body
 */
function attestationTable(body) {
  if (!body) return unavailable('Reserve attestations', '/v1/reserve/attestations');
  return grid(body.attestations, [
    ['id', 'id', (a) => a.id, (a) => `#${a.id}`],
    ['as_of', 'as of', (a) => a.as_of, (a) => fmt.time(a.as_of)],
    ['market_value', 'market value', (a) => a.market_value, (a) => fmt.amount(a.market_value)],
    ['par_amount', 'par', (a) => a.par_amount, (a) => fmt.amount(a.par_amount)],
    ['custodian', 'custodian', (a) => a.custodian, (a) => fmt.short(a.custodian)],
    ['document_hash', 'document', (a) => a.document_hash, (a) => fmt.short(a.document_hash)],
    ['posted_at', 'posted', (a) => a.posted_at, (a) => fmt.time(a.posted_at)],
  ], { id: 'attestations' });
}

/**
 * The deposit queue (head first): deposits waiting for room to mint, and what the head can do.
 * @param {import('./api-types').GetAnswer<'/v1/reserve/deposit-queue'> | null} body
 */
function depositQueueTable(body) {
  if (!body) return unavailable('Deposit queue', '/v1/reserve/deposit-queue');
  const head = body.head === null ? 'empty' : body.head;
  const escrow = body.escrow.map((e) => `${fmt.amount(e.amount)} ${e.asset}`).join(', ') || 'nothing';
  return h('div', {},
    h('p', { id: 'deposit-queue-summary', 'data-length': body.length, 'data-head': head },
      `${body.length} waiting; head: ${head}; escrowed: ${escrow}; room to mint now: ${fmt.amount(body.issuance_room)}`),
    grid(body.deposits, [
      ['id', 'id', (d) => d.id, (d) => `#${d.id}`],
      ['owner', 'depositor', (d) => d.owner, (d) => fmt.short(d.owner)],
      ['amount', 'waiting', (d) => d.amount, (d) => `${fmt.amount(d.amount)} ${d.token}`],
      ['deposited', 'deposited', (d) => d.deposited, (d) => fmt.amount(d.deposited)],
      ['queued_at', 'queued', (d) => d.queued_at, (d) => fmt.time(d.queued_at)],
    ], { id: 'deposit-queue' }));
}

/**
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function overview(context) {
  const [reserve, attestations, depositQueue, vault, depositPrices, redemptionPrices, apy7, apy30] = await Promise.all([
    read('/v1/reserve'), readOptional('/v1/reserve/attestations?limit=20'), readOptional('/v1/reserve/deposit-queue?limit=20'), read('/v1/vault'),
    history('deposit_price'), history('redemption_price'), history('realised_apy_7d'), history('realised_apy_30d'),
  ]);
  const supplyProof = tableProof('ledger.supply', '02');
  const tbillProof = slotProof('reserve.tbill');
  const vaultProof = slotProof('vault.globals');
  const r = reserve.height;
  const v = vault.height;
  const mixOfVault = vault.phase_mix;

  const reserveFigures = h('div', { class: 'figures' },
    await figure('usdai_supply', 'USDai supply', fmt.amount(reserve.usdai_supply), { raw: reserve.usdai_supply, height: r, proof: supplyProof }),
    await figure('reserve_value', 'Reserve value (USD)', fmt.amount(reserve.reserve_value), { raw: reserve.reserve_value, height: r, proof: tbillProof, note: `${fmt.amount(reserve.tbill_units)} TBILL × ${fmt.price(reserve.tbill_index)}` }),
    ...(await reserveBackingFigures(reserve, r, tbillProof)),
    await figure('tbill_rate', 'T-bill rate', fmt.bps(reserve.tbill_apr_bps ?? '0'), { raw: reserve.tbill_apr_bps, height: r, proof: tbillProof }),
    ...(await rateLimitFigures(reserve, r)),
  );
  const vaultFigures = h('div', { class: 'figures' },
    await figure('deposit_price', 'sUSDai deposit price', fmt.price(vault.deposit_price), { raw: vault.deposit_price, height: v, proof: vaultProof }),
    await figure('redemption_price', 'sUSDai redemption price', fmt.price(vault.redemption_price), { raw: vault.redemption_price, height: v, proof: vaultProof }),
    await figure('share_supply', 'sUSDai supply', fmt.amount(vault.share_supply), { raw: vault.share_supply, height: v, proof: vaultProof }),
    await apyFigure(apy7, 7, v, vaultProof),
    await apyFigure(apy30, 30, v, vaultProof),
    await figure('apy_projected', 'APY projected', fmt.bps(mixOfVault.blended_apy_bps), { raw: String(mixOfVault.blended_apy_bps), height: v, proof: vaultProof, note: 'senior loan rates on deployed, T-bill on idle; before fees' }),
  );
  const navFigures = h('div', { class: 'figures' },
    await figure('nav_optimistic', 'NAV (deposits)', fmt.amount(vault.nav_optimistic), { raw: vault.nav_optimistic, height: v, proof: vaultProof }),
    await figure('nav_conservative', 'NAV (redemptions)', fmt.amount(vault.nav_conservative), { raw: vault.nav_conservative, height: v, proof: vaultProof }),
    await figure('nav_idle', 'Idle (Genesis)', fmt.amount(mixOfVault.idle), { raw: mixOfVault.idle, height: v, proof: vaultProof, note: 'unallocated USDai' }),
    await figure('nav_deployed', 'Deployed (Expansion)', fmt.amount(mixOfVault.deployed), { raw: mixOfVault.deployed, height: v, proof: vaultProof, note: 'senior principal in loans' }),
    await figure('deployed_share', 'Deployed share', fmt.bps(mixOfVault.deployed_bps), { raw: String(mixOfVault.deployed_bps), height: v, proof: vaultProof }),
  );
  const idleShare = 1 - Number(mixOfVault.deployed_bps) / 10000;
  const split = h('div', { class: 'split', 'data-split': 'nav' },
    idleShare > 0 ? h('span', { class: 'idle', style: `flex-grow:${idleShare}` }, `idle ${(idleShare * 100).toFixed(1)}%`) : null,
    idleShare < 1 ? h('span', { class: 'deployed', style: `flex-grow:${1 - idleShare}` }, `deployed ${((1 - idleShare) * 100).toFixed(1)}%`) : null,
  );
  /**
   * @param {string} label
   * @returns {Column<{key: string, senior_principal: string}>[]}
   */
  const mixColumns = (label) => [
    ['key', label, (d) => d.key, (d) => (label === 'silo' ? `silo ${d.key}` : d.key)],
    ['senior_principal', 'senior principal', (d) => d.senior_principal, (d) => fmt.amount(d.senior_principal)],
    ['share', 'of deployed', () => null, (d) => fmt.ratio(d.senior_principal, mixOfVault.deployed)],
  ];
  const mix = h('div', { class: 'two' },
    h('div', {}, h('h3', {}, 'Deployed by silo'), grid(mixOfVault.by_silo, mixColumns('silo'), { id: 'by-silo', rowId: (d) => d.key })),
    h('div', {}, h('h3', {}, 'Deployed by asset class'), grid(mixOfVault.by_asset_class, mixColumns('asset class'), { id: 'by-class', rowId: (d) => d.key })));
  const chart = h('div', { class: 'chart', id: 'price-chart', 'data-points': depositPrices?.points.length ?? 0 });
  const apyChart = h('div', { class: 'chart', id: 'apy-chart', 'data-points': (apy7?.points.length ?? 0) + (apy30?.points.length ?? 0) });
  const feed = h('ol', { class: 'feed', id: 'feed' }, context.events.slice(0, 12).map(eventItem));
  const node = h('div', { class: 'page' },
    h('h1', {}, 'Overview'),
    section('USDai and its reserve', reserveFigures,
      h('h3', {}, 'Reserve attestations (the custodian\'s signed statements, newest first)'),
      attestationTable(attestations),
      h('h3', {}, 'Deposit queue (deposits waiting for room to mint, first in first out)'),
      depositQueueTable(depositQueue)),
    section('sUSDai vault', vaultFigures,
      h('h3', {}, 'Share prices over time (the node\'s history)'), chart,
      h('h3', {}, 'Realised APY over 7 and 30 days'), apyChart),
    section('NAV: idle vs deployed (Genesis / Expansion mix)', navFigures, split, mix),
    section('Live events', feed.children.length ? feed : h('p', { class: 'empty', id: 'feed' }, 'Waiting for the next committed event…')),
  );
  const after = () => {
    lineChart(chart, alignHistory([depositPrices, redemptionPrices], fmt.toFloat), {
      xTime: true,
      labels: ['deposit price', 'redemption price'],
      colors: ['#1f7a5a', '#b5542a'],
      yFormat: (y) => (y == null ? '' : y.toFixed(6)),
    });
    lineChart(apyChart, alignHistory([apy7, apy30], (bps) => Number(bps) / 100), {
      xTime: true,
      labels: ['7 days', '30 days'],
      colors: ['#1f5f9a', '#8a5a9e'],
      yFormat: (y) => (y == null ? '' : `${y.toFixed(2)}%`),
    });
  };
  return { node, after };
}

/** @param {FeedEvent} feedEvent */
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

// ---- Queue ---------------------------------------------------------------------------------

/**
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function queue(context) {
  const [body, rounds, listings, lockedHistory, clearingHistory, clearingEmaHistory] = await Promise.all([
    read('/v1/queue?limit=1000'),
    readOptional('/v1/queue/rounds?limit=100', '/v1/queue/rounds'),
    readOptional('/v1/queue/listings?limit=1000', '/v1/queue/listings'),
    history('queue_locked_shares'), history('clearing_price'), history('clearing_price_ema'),
  ]);
  const height = body.height;
  const proof = slotProof('queue.globals');
  const active = body.requests.filter((r) => r.status !== 'served');
  const last = active[active.length - 1];
  const estimate = last ? await read(`/v1/queue/${last.id}`, '/v1/queue/{id}') : null;
  const now = context.timestamp ?? 0;
  let wait = 'next round';
  let waitNote = 'the queue is empty';
  if (estimate) {
    // The QEV estimate projects loan repayments and base yield; the plain one, today's liquidity.
    const qevAt = estimate.qev_estimate?.service_at;
    const at = qevAt ?? estimate.estimate.estimated_service_at;
    wait = at === null || at === undefined ? 'beyond the horizon' : `≈ ${fmt.duration(at - now)}`;
    const q = estimate.qev_estimate;
    waitNote = q
      ? `behind request ${last.id} (${q.position} ahead, ${fmt.amount(q.shares_ahead)} shares); projects ${q.inflows_from_loans} loan repayments and ${q.inflows_from_base_yield} base-yield inflows`
      : `behind request ${last.id}: ${fmt.amount(estimate.estimate.shares_ahead)} shares ahead of it`;
  }
  const figures = h('div', { class: 'figures' },
    await figure('rounds', 'Rounds run', String(body.rounds), { raw: String(body.rounds), height, proof }),
    await figure('last_round_at', 'Last round', fmt.time(body.last_round_at), { raw: body.last_round_at, height, proof }),
    await figure('round_liquidity', 'Round liquidity (USDai)', fmt.amount(body.round_liquidity), { raw: body.round_liquidity, height, proof }),
    await figure('locked_shares', 'Shares in the queue', fmt.amount(body.locked_shares), { raw: body.locked_shares, height, proof }),
    await figure('estimated_wait', 'Estimated wait, new request', wait, {
      height: estimate?.height ?? height,
      proof: last ? `/v1/proofs/queue/${last.id}` : proof,
      note: waitNote,
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
  const depthChart = h('div', { class: 'chart', id: 'depth-chart', 'data-points': lockedHistory?.points.length ?? 0 });
  const clearingChart = h('div', { class: 'chart', id: 'clearing-chart', 'data-points': clearingHistory?.points.length ?? 0 });
  // Oldest first for the chart and the table's reading order.
  const roundRows = rounds ? [...rounds.rounds].reverse() : [];
  let roundsNode;
  if (!rounds) {
    roundsNode = unavailable('Clearing price per round', '/v1/queue/rounds');
  } else {
    const rh = rounds.height;
    roundsNode = h('div', {},
      h('div', { class: 'figures' },
        await figure('clearing_price_ema', 'Clearing price, average (EMA)', fmt.price(rounds.clearing_price_ema), { raw: rounds.clearing_price_ema, height: rh, proof: slotProof('queue.qev') })),
      roundChart,
      grid([...rounds.rounds], [
        ['round', 'round', (r) => r.round],
        ['at', 'at', (r) => r.at, (r) => fmt.time(r.at)],
        ['clearing_price', 'clearing price', (r) => r.clearing_price, (r) => fmt.price(r.clearing_price)],
        ['clearing_price_ema', 'average (EMA)', (r) => r.clearing_price_ema, (r) => fmt.price(r.clearing_price_ema)],
        ['requests_served', 'served', (r) => r.requests_served],
        ['served_assets', 'USDai out', (r) => r.served_assets, (r) => fmt.amount(r.served_assets)],
        ['jumpers', 'jumpers', (r) => r.jumpers],
        ['bid_fees_paid', 'bid fees', (r) => r.bid_fees_paid, (r) => fmt.amount(r.bid_fees_paid)],
      ], { id: 'rounds', rowId: (r) => r.round }));
  }
  const listingsNode = listings
    ? h('div', {}, await stamp(listings.height, null), grid(listings.listings, [
      ['request', 'request', (l) => l.request.id, (l) => `#${l.request.id}`],
      ['owner', 'seller', (l) => l.request.owner, (l) => fmt.short(l.request.owner)],
      ['shares_remaining', 'shares', (l) => l.request.shares_remaining, (l) => fmt.amount(l.request.shares_remaining)],
      ['price', 'asking (USDai)', (l) => l.price, (l) => fmt.amount(l.price)],
      ['value_now', 'value now', (l) => l.value_now, (l) => fmt.amount(l.value_now)],
      ['discount', 'discount', () => null, (l) => (BigInt(l.value_now) === 0n ? '—' : fmt.ratio((BigInt(l.value_now) - BigInt(l.price)).toString(), l.value_now))],
      ['status', 'status', (l) => l.request.status],
      ['proof', '', () => null, (l) => h('a', { class: 'proof', href: `/v1/proofs/queue/${l.request.id}`, target: '_blank', rel: 'noopener' }, 'proof')],
    ], { id: 'listings', rowId: (l) => l.request.id }))
    : unavailable('Listings', '/v1/queue/listings');
  const node = h('div', { class: 'page' },
    h('h1', {}, 'Redemption queue'),
    section('Queue', figures),
    section('Depth by bid', depthNode),
    section('Over time (the node\'s history)',
      h('h3', {}, 'Shares waiting in the queue'), lockedHistory ? depthChart : unavailable('Queue history', '/v1/history/{series}'),
      h('h3', {}, 'Clearing price and its average'), clearingHistory ? clearingChart : unavailable('Clearing price history', '/v1/history/{series}')),
    section('Clearing price per round', roundsNode),
    section('Positions listed for sale', listingsNode),
    section('Requests', await stamp(height, null), table(body.requests, [
      ['id', 'id'], ['owner', 'owner'], ['shares_remaining', 'shares'], ['bid_price', 'bid'], ['eligible_at', 'eligible'],
      ['claimable', 'claimable'], ['status', 'status']], { id: 'requests', proof: (row) => `/v1/proofs/queue/${row.id}` })),
  );
  const after = () => {
    lineChart(depthChart, alignHistory([lockedHistory], fmt.toFloat), {
      xTime: true, labels: ['sUSDai locked'], colors: ['#0f6b55'], yFormat: (y) => (y == null ? '' : y.toLocaleString('en-US', { maximumFractionDigits: 0 })),
    });
    lineChart(clearingChart, alignHistory([clearingHistory, clearingEmaHistory], fmt.toFloat), {
      xTime: true, labels: ['clearing price', 'average (EMA)'], colors: ['#1f5f9a', '#8a8f98'], yFormat: (y) => (y == null ? '' : y.toFixed(6)),
    });
    if (roundRows.length === 0) return;
    lineChart(roundChart, [roundRows.map((row) => row.round), roundRows.map((row) => fmt.toFloat(row.clearing_price)), roundRows.map((row) => fmt.toFloat(row.clearing_price_ema))], {
      xLabel: 'round', labels: ['clearing price', 'average (EMA)'], colors: ['#1f5f9a', '#8a8f98'], yFormat: (y) => (y == null ? '' : y.toFixed(6)),
    });
  };
  return { node, after };
}

// ---- Points --------------------------------------------------------------------------------

/**
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function points(context) {
  const body = await read('/v1/points/leaderboard?limit=100');
  const node = h('div', { class: 'page' }, h('h1', {}, 'Points'),
    section('Leaderboard', await stamp(body.height, null),
      table(body.leaders, [['rank', 'rank'], ['address', 'account'], ['points', 'points']], {
        id: 'leaders', proof: (row) => `/v1/proofs/balances/${row.address}/USDai`,
      })));
  return { node };
}
