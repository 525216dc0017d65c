// @ts-check
// The pages. Each is `async (context) => ({ node, after })`: it reads what it shows, builds
// its DOM off-screen (so a live refresh swaps the page in one step) and `after` draws the
// charts once the node is in the document. Values from the API go into text nodes only.

import { NotAvailable, NotFound, history, read, readOptional, slotProof, stateRoot, tableProof } from './api.js';
import { alignHistory, bar, cell, h, lastPoint, lineChart, section, table, unavailable } from './dom.js';
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
 * A column of `grid`: `[key, label, raw(row), show(row)]`. `raw` is the API value the cell
 * stands for (its `data-raw`); `show` what is displayed (default: `cell(key, raw)`).
 * @template R
 * @typedef {[string, string, (row: R) => unknown, ((row: R) => Child)?]} Column
 */
/** @typedef {import('./api-types').GetAnswer<'/v1/loans'>['loans'][number]} Loan */
/** @typedef {import('./api-types').GetAnswer<'/v1/silos'>['silos'][number]} Silo */
/** @typedef {import('./api-types').GetAnswer<'/v1/receipts/{id}'>} ReceiptDetail */
/** @typedef {import('./api-types').GetAnswer<'/v1/loans/{id}'>} LoanDetail */

/**
 * "read at block #h · root 0x…  proof": where a figure comes from.
 * @param {number | null | undefined} height
 * @param {string | null} [proof]
 */
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
async function figure(id, label, value, { raw, height, proof, note }) {
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

// ---- Credit: shared pieces -----------------------------------------------------------------

/**
 * A table with explicit columns: `[key, label, raw(row), show(row)]`. Each cell carries
 * `data-key` and `data-raw` (the API value it shows) so the browser test can compare both.
 * @template R
 * @param {readonly R[]} rows
 * @param {Column<R>[]} columns
 * @param {{id: string, rowId?: (row: R) => string | number, cards?: boolean}} options the
 *   table's `data-table`, each row's `data-row` (default: its `id`), and whether a narrow
 *   screen shows each row as a card (labelled cells) instead of a wide row
 */
function grid(rows, columns, { id, rowId = (row) => /** @type {any} */ (row).id, cards = false }) {
  if (rows.length === 0) return h('p', { class: 'empty', 'data-table': id }, 'None yet.');
  const head = h('tr', {}, columns.map(([, label]) => h('th', {}, label)));
  const body = rows.map((row) => h('tr', { 'data-row': rowId(row) },
    columns.map(([key, label, raw, show]) => {
      const value = raw(row);
      const shown = show ? show(row) : cell(key, value);
      return h('td', { 'data-key': key, 'data-label': label, 'data-raw': value === null || value === undefined ? null : String(value), title: typeof value === 'string' && value.startsWith('0x') ? value : null }, shown);
    })));
  return h('div', { class: 'scroll' }, h('table', { 'data-table': id, class: cards ? 'cards' : null }, h('thead', {}, head), h('tbody', {}, body)));
}

/**
 * A bar of `fraction` (0..1) with markers at `marks` ([fraction, title] pairs).
 * @param {number} fraction
 * @param {[number, string][]} marks
 * @param {string} label
 * @param {{floor?: boolean}} [options] whether the first mark is a floor to stay above
 */
function limitBar(fraction, marks, label, { floor = false } = {}) {
  const width = Math.max(0, Math.min(1, fraction)) * 100;
  // A limit is a ceiling (LTV, cap), or with `floor` a minimum to stay above (first-loss).
  const over = marks.length > 0 && (floor ? fraction < marks[0][0] : fraction > marks[marks.length - 1][0]);
  const warn = !floor && marks.length > 0 && fraction > marks[0][0];
  return h('div', { class: 'bar', title: label },
    h('span', { class: over ? 'fill over' : warn ? 'fill warn' : 'fill', style: `width:${width}%` }),
    marks.map(([at, title]) => h('i', { class: 'mark', style: `left:${Math.min(1, at) * 100}%`, title })));
}

/**
 * A loan's LTV bar against its silo: the scale ends at 1.25 x the margin-call LTV.
 * @param {Loan} loan
 * @param {Silo | undefined} silo
 */
function ltvBar(loan, silo) {
  if (!loan.mark) return h('span', { class: 'muted' }, 'not marked');
  // A closed loan keeps its last mark (after a liquidation sale: no collateral left), which
  // no longer measures anything; a mark without collateral value has no finite LTV.
  if (!isOpen(loan)) return h('span', { class: 'muted', title: `last marked ${fmt.time(loan.mark.at)}` }, `${loan.status}`);
  if (!hasFiniteLtv(loan.mark)) return h('span', { class: 'muted' }, 'no collateral value');
  const ltv = Number(loan.mark.ltv_bps);
  if (!silo) return h('span', {}, fmt.bps(ltv));
  const scale = silo.margin_call_ltv_bps * 1.25;
  return h('div', { class: 'ltv-cell' },
    h('span', { class: 'ltv-text' }, fmt.bps(ltv)),
    limitBar(ltv / scale, [[silo.max_initial_ltv_bps / scale, `max initial ${fmt.bps(silo.max_initial_ltv_bps)}`], [silo.margin_call_ltv_bps / scale, `margin call ${fmt.bps(silo.margin_call_ltv_bps)}`]],
      `LTV ${fmt.bps(ltv)}; max initial ${fmt.bps(silo.max_initial_ltv_bps)}, margin call ${fmt.bps(silo.margin_call_ltv_bps)}`));
}

/**
 * Whether a loan is still open (active, or defaulted and liquidating).
 * @param {{status: string}} loan
 */
function isOpen(loan) {
  return loan.status === 'active' || loan.status === 'defaulted';
}

/** The core marks a loan whose collateral is worth nothing at `u128::MAX` (no finite LTV). */
const LTV_WITHOUT_VALUE = '340282366920938463463374607431768211455';

/**
 * Whether a mark has a finite LTV.
 * @param {{ltv_bps: string}} mark
 */
function hasFiniteLtv(mark) {
  return mark.ltv_bps !== LTV_WITHOUT_VALUE;
}

/**
 * A loan's LTV in words: its last mark's, '—' when not marked, closed or without collateral value.
 * @param {Loan} loan
 */
function ltvText(loan) {
  return loan.mark && isOpen(loan) && hasFiniteLtv(loan.mark) ? fmt.bps(loan.mark.ltv_bps) : '—';
}

/**
 * Principal lent at origination: both tranches as funded.
 * @param {Loan} loan
 */
export function loanPrincipal(loan) {
  return (BigInt(loan.senior.funded) + BigInt(loan.junior.funded)).toString();
}

/**
 * The asset classes of a loan's collateral, from the receipts it pledges.
 * @param {Loan} loan
 * @param {Map<number, {class: string}>} receiptsById
 */
function loanClasses(loan, receiptsById) {
  const classes = [...new Set(loan.receipts.map((id) => receiptsById.get(id)?.class).filter(Boolean))];
  return classes.length ? classes.join(', ') : '—';
}

/**
 * Status with its flags: a margin call, a breached covenant, a missed deadline.
 * @param {Loan} loan
 * @param {number | null} now
 */
function loanStatus(loan, now) {
  const flags = [];
  if (loan.margin_call) flags.push(h('span', { class: 'badge warn', 'data-flag': 'margin_call', title: `${loan.margin_call.reason}; cure by ${fmt.time(loan.margin_call.cure_deadline_at)}` }, 'margin call'));
  if (loan.breach) flags.push(h('span', { class: 'badge late', 'data-flag': 'breached', title: `${loan.breach.reason.replaceAll('_', ' ')}; cure by ${fmt.time(loan.breach.cure_deadline_at)}` }, 'breached'));
  if (loan.status === 'active' && now !== null && loan.next_due_at < now) flags.push(h('span', { class: 'badge late', 'data-flag': 'late' }, 'late'));
  return h('span', { class: 'status' }, h('span', { class: `badge ${loan.status}` }, loan.status), flags);
}

/**
 * A loan's debt-service reserve as the share of its requirement held ('—' when none is required).
 * @param {Loan} loan
 */
export function reserveShare(loan) {
  const reserve = loan.debt_service_reserve;
  if (BigInt(reserve.required) === 0n) return '—';
  return fmt.ratio(reserve.balance, reserve.required);
}

/**
 * A loan's debt-service reserve against its requirement: a bar with the requirement marked,
 * labelled by the share held (`wide`: by the amounts held and required).
 */
/**
 * @param {Loan} loan
 * @param {{wide?: boolean}} [options]
 */
function reserveBar(loan, { wide = false } = {}) {
  const reserve = loan.debt_service_reserve;
  const required = BigInt(reserve.required);
  const amounts = `${fmt.amount(reserve.balance)} of ${fmt.amount(reserve.required)} required`;
  if (required === 0n) return h('span', { class: 'muted' }, reserveShare(loan));
  const held = Number((BigInt(reserve.balance) * 10000n) / required) / 10000;
  return h('div', { class: wide ? 'ltv-cell reserve-cell' : 'ltv-cell', title: amounts },
    h('span', { class: 'ltv-text' }, wide ? amounts : reserveShare(loan)),
    limitBar(Math.min(held, 1.25) / 1.25, [[1 / 1.25, 'requirement']], amounts, { floor: true }));
}

/**
 * A definition list of `[key, label, raw, shown]` (shown: default `cell(key, raw)`).
 * @param {[string, string, unknown, Child?][]} entries
 */
function facts(entries) {
  return h('dl', { class: 'facts' }, entries.flatMap(([key, label, raw, shown]) =>
    [h('dt', {}, label), h('dd', { 'data-key': key, 'data-raw': raw === null || raw === undefined ? null : String(raw) }, shown ?? cell(key, raw))]));
}

// ---- Loans ---------------------------------------------------------------------------------

async function creditBook() {
  const [loans, silos, receipts] = await Promise.all([
    read('/v1/loans?limit=1000', '/v1/loans'),
    read('/v1/silos?limit=1000', '/v1/silos'),
    read('/v1/receipts?limit=1000', '/v1/receipts'),
  ]);
  return {
    loans, silos, receipts,
    siloById: new Map(silos.silos.map((s) => [s.id, s])),
    receiptById: new Map(receipts.receipts.map((r) => [r.id, r])),
  };
}

/**
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function loans(context) {
  const node = h('div', { class: 'page' }, h('h1', {}, 'Loans'));
  let book;
  try {
    book = await creditBook();
  } catch (error) {
    if (!(error instanceof NotAvailable)) throw error;
    node.append(section('Every loan', unavailable('Loans', error.path)));
    return { node };
  }
  const { siloById, receiptById } = book;
  const rows = book.loans.loans;
  const now = context.timestamp;
  /** @type {Column<Loan>[]} */
  const columns = [
    ['id', 'loan', (l) => l.id, (l) => [h('a', { href: `#/loans/${l.id}` }, `#${l.id}`), ' ', h('a', { class: 'proof small', href: `/v1/proofs/loans/${l.id}`, target: '_blank', rel: 'noopener' }, 'proof')]],
    ['silo', 'silo', (l) => l.silo, (l) => `silo ${l.silo}`],
    ['borrower', 'borrower', (l) => l.borrower, (l) => fmt.short(l.borrower)],
    ['class', 'class', (l) => loanClasses(l, receiptById)],
    ['principal', 'principal', (l) => loanPrincipal(l), (l) => fmt.amount(loanPrincipal(l))],
    ['balance', 'balance', (l) => l.balance, (l) => fmt.amount(l.balance)],
    ['apr_bps', 'rate', (l) => l.apr_bps, (l) => fmt.bps(l.apr_bps)],
    ['next_due_at', 'next payment', (l) => (l.status === 'active' ? l.next_due_at : null), (l) => (l.status === 'active' ? fmt.time(l.next_due_at) : '—')],
    ['ltv_bps', 'LTV vs limits', (l) => l.mark?.ltv_bps ?? null, (l) => ltvBar(l, siloById.get(l.silo))],
    ['debt_service_reserve', 'reserve held', (l) => l.debt_service_reserve.balance, (l) => reserveBar(l)],
    ['status', 'status', (l) => l.status, (l) => loanStatus(l, now)],
  ];
  const outstanding = rows.filter((l) => l.status === 'active' || l.status === 'defaulted');
  const total = (pick) => outstanding.reduce((sum, l) => sum + BigInt(pick(l)), 0n).toString();
  const height = book.loans.height;
  const figures = h('div', { class: 'figures' },
    await figure('loans_count', 'Loans', String(rows.length), { raw: String(rows.length), height }),
    await figure('loans_outstanding_balance', 'Outstanding balance', fmt.amount(total((l) => l.balance)), { raw: total((l) => l.balance), height, note: `${outstanding.length} active or defaulted` }),
    await figure('loans_margin_calls', 'In margin call', String(rows.filter((l) => l.margin_call).length), { raw: String(rows.filter((l) => l.margin_call).length), height }),
    await figure('loans_breached', 'Breached', String(rows.filter((l) => l.breached).length), { raw: String(rows.filter((l) => l.breached).length), height, note: 'reserve below its requirement or report overdue' }),
    await figure('loans_reserves', 'Debt-service reserves', fmt.amount(total((l) => l.debt_service_reserve.balance)), { raw: total((l) => l.debt_service_reserve.balance), height, note: 'held for borrowers\' missed payments' }),
  );
  const recoveries = await readOptional('/v1/recoveries');
  node.append(
    section('Book', figures),
    section('Recoveries by asset class', recoveries ? await stamp(recoveries.height, null) : null, recoveryTable(recoveries)),
    section('Every loan', await stamp(height, null), grid(rows, columns, { id: 'loans', cards: true }),
      h('p', { class: 'legend' }, 'LTV bar: the marks are the silo\'s maximum initial LTV and its margin-call LTV; the scale ends at 1.25 × the margin-call LTV. Reserve held: the debt-service reserve as a share of what the silo\'s covenants required when the loan was accepted; below the mark the loan is breached.')),
  );
  return { node };
}

/**
 * The recovery rate per asset class over every defaulted loan (issue 16's recovery ledger), or
 * a note when this node does not serve it.
 * @param {import('./api-types').GetAnswer<'/v1/recoveries'> | null} body
 */
function recoveryTable(body) {
  if (!body) return unavailable('Recoveries', '/v1/recoveries');
  const rate = (/** @type {number | null} */ bps) => (bps === null ? '—' : fmt.bps(bps));
  return h('div', {},
    grid(body.classes, [
      ['class', 'class', (c) => c.class],
      ['loans', 'defaulted loans', (c) => c.loans, (c) => `${c.loans} (${c.settled} settled)`],
      ['exposure_at_default', 'exposure at default', (c) => c.exposure_at_default, (c) => fmt.amount(c.exposure_at_default)],
      ['gross', 'gross recoveries', (c) => c.gross, (c) => fmt.amount(c.gross)],
      ['costs', 'costs', (c) => c.costs, (c) => fmt.amount(c.costs)],
      ['insurance_paid', 'insurance paid', (c) => c.insurance_paid, (c) => fmt.amount(c.insurance_paid)],
      ['deficiency', 'written off', (c) => c.deficiency, (c) => fmt.amount(c.deficiency)],
      ['receipts_written_off', 'receipts unsold', (c) => c.receipts_written_off, (c) => String(c.receipts_written_off)],
      ['recovery_rate_bps', 'recovery rate', (c) => c.recovery_rate_bps, (c) => rate(c.recovery_rate_bps)],
      ['settled_recovery_rate_bps', 'settled only', (c) => c.settled_recovery_rate_bps, (c) => rate(c.settled_recovery_rate_bps)],
    ], { id: 'recoveries', rowId: (c) => c.class }),
    h('p', { class: 'legend' }, 'Recovery rate: net recoveries (gross less the agents\' costs, insurance included) over what the loans owed when they defaulted. Receipts unsold: written off after the sale deadline (they recovered nothing; an insured floor on one is owed in full). A loan counts under the class of the largest share of its collateral.'));
}

/**
 * @param {Context} context
 * @param {string} id
 * @returns {Promise<Page>}
 */
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
  const l = body.loan;
  const height = body.height;
  const proof = `/v1/proofs/loans/${l.id}`;
  const [siloBody, ...receiptBodies] = await Promise.all([
    read(`/v1/silos/${l.silo}`, '/v1/silos/{id}'),
    ...l.receipts.map((r) => read(`/v1/receipts/${r}`, '/v1/receipts/{id}')),
  ]);
  const silo = siloBody.silo;
  const principal = loanPrincipal(l);
  const figures = h('div', { class: 'figures' },
    await figure('loan_principal', 'Principal', fmt.amount(principal), { raw: principal, height, proof, note: 'senior + junior funded' }),
    await figure('loan_balance', 'Balance', fmt.amount(l.balance), { raw: l.balance, height, proof }),
    await figure('loan_rate', 'Rate (APR)', fmt.bps(l.apr_bps), { raw: String(l.apr_bps), height, proof, note: `${l.model.replaceAll('_', ' ')}, ${l.periods} payments every ${fmt.duration(l.interval_secs)}` }),
    await figure('loan_ltv', 'LTV', ltvText(l), { raw: l.mark?.ltv_bps ?? null, height, proof, note: l.mark ? `collateral ${fmt.amount(l.mark.collateral_value)} marked ${fmt.time(l.mark.at)}${isOpen(l) ? '' : ` (${l.status})`}` : 'not marked' }),
    await figure('loan_next_due', 'Next payment', l.status === 'active' ? fmt.time(l.next_due_at) : '—', { raw: l.status === 'active' ? String(l.next_due_at) : null, height, proof }),
    await figure('loan_status', 'Status', l.status, { raw: l.status, height, proof, note: l.margin_call ? `margin call (${l.margin_call.reason}) until ${fmt.time(l.margin_call.cure_deadline_at)}` : l.defaulted_at ? `defaulted ${fmt.time(l.defaulted_at)}` : null }),
  );
  node.append(section('Loan', figures, h('div', { class: 'ltv-row wide' }, h('span', {}, `LTV vs silo ${silo.id} limits`), ltvBar(l, silo)),
    facts([
      ['silo', 'silo', l.silo, h('a', { href: '#/silos' }, `silo ${l.silo}`)],
      ['borrower', 'borrower', l.borrower, l.borrower],
      ['originated_at', 'originated', l.originated_at],
      ['grace_period_secs', 'grace period', l.grace_period_secs, fmt.duration(l.grace_period_secs)],
    ])));

  if (l.status === 'defaulted' || body.liquidation_agent !== null) {
    node.append(section('Liquidation', await stamp(height, proof), liquidationFacts(body, context.timestamp)));
  }
  node.append(section('Covenants: debt-service reserve and reports', await stamp(height, proof), covenantFacts(l)));

  // Tranche split.
  const senior = BigInt(l.senior.funded);
  const junior = BigInt(l.junior.funded);
  const seniorShare = senior + junior === 0n ? 0 : Number((senior * 10000n) / (senior + junior)) / 10000;
  const tranches = [{ id: 'senior', ...l.senior }, { id: 'junior', ...l.junior }];
  node.append(section('Tranche split', await stamp(height, proof),
    h('div', { class: 'split', 'data-split': 'tranches' },
      seniorShare > 0 ? h('span', { class: 'deployed', style: `flex-grow:${seniorShare}` }, `senior ${(seniorShare * 100).toFixed(1)}%`) : null,
      seniorShare < 1 ? h('span', { class: 'junior', style: `flex-grow:${1 - seniorShare}` }, `junior ${((1 - seniorShare) * 100).toFixed(1)}%`) : null),
    grid(tranches, [
      ['tranche', 'tranche', (t) => t.id, (t) => (t.id === 'senior' ? 'senior (vault)' : 'junior (first-loss pool)')],
      ['funded', 'funded', (t) => t.funded, (t) => fmt.amount(t.funded)],
      ['principal', 'outstanding', (t) => t.principal, (t) => fmt.amount(t.principal)],
      ['apr_bps', 'APR', (t) => t.apr_bps, (t) => fmt.bps(t.apr_bps)],
    ], { id: 'tranches' })));

  // Payments made and the schedule.
  const made = l.periods - l.periods_remaining;
  node.append(section('Payments', await stamp(height, proof), facts([
    ['payments_made', 'payments made', made, `${made} of ${l.periods}`],
    ['interest_paid', 'interest paid', l.interest_paid, fmt.amount(l.interest_paid)],
    ['principal_paid', 'principal repaid', l.principal_paid, fmt.amount(l.principal_paid)],
  ])));
  const schedule = body.schedule;
  if (schedule) {
    const due = schedule.payment_due_now;
    node.append(section('Schedule', await stamp(height, proof),
      facts([
        ['payment_due_now', 'due now', due.total, `${fmt.amount(due.total)} (${due.installments} installment${due.installments === 1 ? '' : 's'}, grace interest ${fmt.amount(due.grace_interest)}, exit fee ${fmt.amount(due.exit_fee)})`],
        ['payments_missed', 'payments missed', schedule.payments_missed, String(schedule.payments_missed)],
        ['default_due', 'default due', schedule.default_due],
      ]),
      h('h3', {}, 'Remaining payments, on time'),
      grid(schedule.remaining, [
        ['n', '#', (p) => schedule.remaining.indexOf(p) + 1 + made],
        ['due_at', 'due', (p) => p.due_at],
        ['interest', 'interest', (p) => p.interest, (p) => fmt.amount(p.interest)],
        ['principal', 'principal', (p) => p.principal, (p) => fmt.amount(p.principal)],
        ['payment', 'payment', (p) => p.payment, (p) => fmt.amount(p.payment)],
        ['closing_balance', 'balance after', (p) => p.closing_balance, (p) => fmt.amount(p.closing_balance)],
      ], { id: 'schedule', rowId: (p) => p.due_at })));
  } else {
    node.append(section('Schedule', h('p', { class: 'empty' }, `No schedule: the loan is ${l.status}.`)));
  }
  const r = body.recovery;
  if (r) {
    node.append(section('Recovery ledger', await stamp(height, proof), facts([
      ['exposure_at_default', 'owed at default', r.exposure_at_default, fmt.amount(r.exposure_at_default)],
      ['gross', 'gross recoveries', r.gross, fmt.amount(r.gross)],
      ['costs', 'costs', r.costs, `${fmt.amount(r.costs)} (ITAD ${fmt.amount(r.itad_commission)}, legal ${fmt.amount(r.legal_costs)}, logistics ${fmt.amount(r.logistics_costs)}, data destruction ${fmt.amount(r.data_destruction_costs)})`],
      ['net', 'net recoveries', r.net, fmt.amount(r.net)],
      ['insurance_paid', 'insurance paid', r.insurance_paid, fmt.amount(r.insurance_paid)],
      ['residual_owed', 'residual claims owed', r.residual_owed, fmt.amount(r.residual_owed)],
      ['insurance_unpaid', 'insurance written off unpaid', r.insurance_unpaid, fmt.amount(r.insurance_unpaid)],
      ['to_senior', 'to senior / junior / borrower', r.to_senior, `${fmt.amount(r.to_senior)} / ${fmt.amount(r.to_junior)} / ${fmt.amount(r.to_borrower)}`],
      ['receipts_written_off', 'receipts written off unsold', r.receipts_written_off, String(r.receipts_written_off)],
      ['deficiency', 'written off', r.deficiency, `${fmt.amount(r.deficiency)} (senior ${fmt.amount(r.senior_loss)}, junior ${fmt.amount(r.junior_loss)}; first-loss cover ${fmt.amount(r.first_loss_cover)})`],
      ['recovery_rate_bps', 'recovery rate', r.recovery_rate_bps, r.recovery_rate_bps === null ? '—' : `${fmt.bps(r.recovery_rate_bps)}${r.settled ? '' : ' so far'}`],
    ])));
  }
  node.append(section('Collateral receipts', receiptGrid(receiptBodies, 'loan-receipts')));
  return { node };
}

/**
 * Who may act next on a liquidation (issue 11): until the sale deadline its liquidation agent
 * alone sells; after it the admin alone hands the unsold receipts to another agent or writes
 * them off (the curator's hand-over is refused then). Before any foreclosure the curator (or
 * the admin) hands the receipts to an agent.
 * @param {LoanDetail} body
 * @param {number | null} now the chain's time
 */
function liquidationNext(body, now) {
  const deadline = body.sale_deadline_at;
  if (body.loan.status !== 'defaulted') return { who: null, text: `nobody: the loan is ${body.loan.status}` };
  if (deadline === null || deadline === undefined) return { who: 'curator', text: 'the curator (or the admin) hands the receipts to a liquidation agent' };
  if (now !== null && now >= deadline) return { who: 'admin', text: 'the admin alone: hand the unsold receipts to another agent, or write them off' };
  return { who: 'liquidation_agent', text: `the liquidation agent alone sells until ${fmt.time(deadline)}; then the admin may hand over or write off` };
}

/**
 * A loan's liquidation: its agent, the sale deadline, who may act next, held sale reports.
 * @param {LoanDetail} body
 * @param {number | null} now
 */
function liquidationFacts(body, now) {
  const l = body.loan;
  const deadline = body.sale_deadline_at ?? null;
  const passed = deadline !== null && now !== null && now >= deadline;
  const next = liquidationNext(body, now);
  return facts([
    ['defaulted_at', 'defaulted', l.defaulted_at ?? null],
    ['liquidation_agent', 'liquidation agent', body.liquidation_agent, body.liquidation_agent ?? 'none yet: not foreclosed'],
    ['sale_deadline_at', 'sale deadline', deadline, deadline === null ? '—' : `${fmt.time(deadline)}${passed ? ' (passed)' : ''}`],
    ['liquidation_next', 'who may act next', next.who, next.text],
    ['held_sales', 'sale reports held for the admin', body.held_sales.length, body.held_sales.length === 0 ? 'none' : body.held_sales.map((s) => `receipt #${s.receipt_id}: ${fmt.amount(s.gross_proceeds)} gross`).join('; ')],
  ]);
}

/**
 * A receipt status in words (`written_off` reads "written off").
 * @param {string} status
 */
function statusWords(status) {
  return status.replaceAll('_', ' ');
}

/**
 * A loan's covenant state: its reserve against the requirement, the breach, the reports.
 * @param {Loan} l
 */
function covenantFacts(l) {
  const reserve = l.debt_service_reserve;
  const breach = l.breach;
  return h('div', {},
    h('div', { class: 'ltv-row wide' }, h('span', {}, 'reserve vs requirement'), reserveBar(l, { wide: true })),
    facts([
      ['breached', 'breached', String(l.breached), breach ? `yes: ${breach.reason.replaceAll('_', ' ')}, since ${fmt.time(breach.opened_at)}` : 'no'],
      ['breach_cure_deadline', 'cure by', breach?.cure_deadline_at ?? null, breach ? `${fmt.time(breach.cure_deadline_at)} (uncured, the loan may be defaulted then)` : '—'],
      ['reserve_periods', 'reserve covenant', reserve.periods, reserve.periods === 0 ? 'none' : `${reserve.periods} payment${reserve.periods === 1 ? '' : 's'} and their grace interest`],
      ['reserve_required', 'reserve required', reserve.required, fmt.amount(reserve.required)],
      ['reserve_balance', 'reserve held', reserve.balance, fmt.amount(reserve.balance)],
      ['reserve_drawn_total', 'drawn for missed payments', reserve.drawn_total, fmt.amount(reserve.drawn_total)],
      ['report_interval_secs', 'reports', l.report_interval_secs, l.report_interval_secs === 0 ? 'not required' : `every ${fmt.duration(l.report_interval_secs)}`],
      ['last_report', 'last report', l.last_report?.at ?? null, l.last_report ? `${fmt.time(l.last_report.at)} · ${fmt.short(l.last_report.document_hash)}` : '—'],
      ['report_due_at', 'next report due', l.report_due_at, l.report_due_at === null ? '—' : fmt.time(l.report_due_at)],
    ]));
}

// ---- Silos ---------------------------------------------------------------------------------

/**
 * @param {Context} context
 * @returns {Promise<Page>}
 */
export async function silos(context) {
  const node = h('div', { class: 'page' }, h('h1', {}, 'Silos'));
  let body;
  try {
    body = await read('/v1/silos?limit=1000', '/v1/silos');
  } catch (error) {
    if (!(error instanceof NotAvailable)) throw error;
    node.append(section('Every silo', unavailable('Silos', '/v1/silos')));
    return { node };
  }
  const height = body.height;
  const frac = (a, b) => (BigInt(b) === 0n ? 0 : Number((BigInt(a) * 10000n) / BigInt(b)) / 10000);
  const cards = [];
  for (const silo of body.silos) {
    const proof = `/v1/proofs/silos/${silo.id}`;
    const fl = frac(silo.first_loss_capital, silo.first_loss_requirement);
    cards.push(h('section', { class: 'panel', 'data-silo': silo.id },
      h('h2', {}, `Silo ${silo.id}`, silo.frozen ? h('span', { class: 'badge warn' }, 'frozen') : null),
      await stamp(height, proof),
      facts([
        ['curator', 'curator', silo.curator, silo.curator],
        ['eligible_classes', 'classes', silo.eligible_classes.join(','), silo.eligible_classes.join(', ')],
        ['limits', 'LTV limits', null, `max initial ${fmt.bps(silo.max_initial_ltv_bps)}, margin call ${fmt.bps(silo.margin_call_ltv_bps)}`],
        ['curator_fee_bps', 'curator fee', silo.curator_fee_bps, fmt.bps(silo.curator_fee_bps)],
      ]),
      h('div', { class: 'meters' },
        h('div', { class: 'ltv-row' }, h('span', {}, 'first-loss vs requirement'),
          limitBar(BigInt(silo.first_loss_requirement) === 0n ? 1 : Math.min(fl, 2) / 2, [[0.5, 'requirement']], `${fmt.amount(silo.first_loss_capital)} of ${fmt.amount(silo.first_loss_requirement)} required`, { floor: true }),
          h('span', { class: 'num' }, `${fmt.amount(silo.first_loss_capital)} / ${fmt.amount(silo.first_loss_requirement)}`)),
        h('div', { class: 'ltv-row' }, h('span', {}, 'senior cap usage'),
          limitBar(frac(silo.senior_outstanding, silo.senior_cap), [[1, 'cap']], `${fmt.amount(silo.senior_outstanding)} of ${fmt.amount(silo.senior_cap)}`),
          h('span', { class: 'num' }, `${fmt.amount(silo.senior_outstanding)} / ${fmt.amount(silo.senior_cap)}`))),
    ));
  }
  /** @type {Column<Silo>[]} */
  const columns = [
    ['id', 'silo', (s) => s.id, (s) => [`silo ${s.id} `, h('a', { class: 'proof small', href: `/v1/proofs/silos/${s.id}`, target: '_blank', rel: 'noopener' }, 'proof')]],
    ['curator', 'curator', (s) => s.curator, (s) => fmt.short(s.curator)],
    ['pool_balance', 'first-loss pool', (s) => s.pool_balance, (s) => fmt.amount(s.pool_balance)],
    ['first_loss_capital', 'first-loss capital', (s) => s.first_loss_capital, (s) => fmt.amount(s.first_loss_capital)],
    ['first_loss_requirement', 'required', (s) => s.first_loss_requirement, (s) => fmt.amount(s.first_loss_requirement)],
    ['senior_cap', 'senior cap', (s) => s.senior_cap, (s) => fmt.amount(s.senior_cap)],
    ['senior_outstanding', 'senior used', (s) => s.senior_outstanding, (s) => fmt.amount(s.senior_outstanding)],
    ['junior_outstanding', 'junior', (s) => s.junior_outstanding, (s) => fmt.amount(s.junior_outstanding)],
    ['losses_absorbed', 'losses absorbed', (s) => s.losses_absorbed, (s) => fmt.amount(s.losses_absorbed)],
    ['impairment', 'impairment', (s) => s.impairment, (s) => fmt.amount(s.impairment)],
    ['loans_outstanding', 'loans', (s) => s.loans_outstanding],
  ];
  node.append(section('Every silo', await stamp(height, null), grid(body.silos, columns, { id: 'silos', cards: true })), ...cards);
  return { node };
}

// ---- Receipts ------------------------------------------------------------------------------

/**
 * What a receipt's presence badge explains on hover: the class's limit and the newest
 * attestation's age.
 * @param {ReceiptDetail['presence']} p
 */
function presenceTitle(p) {
  if (p.limit_secs === 0) return 'its class is not monitored';
  const seen = p.attestation ? `${p.attestation.units_seen} units seen ${fmt.time(p.attestation.as_of)}` : 'never attested';
  return `limit ${Math.round(p.limit_secs / 86400)} days; ${seen}`;
}

/**
 * Receipts with their details (`/v1/receipts/{id}` answers), one row each.
 * @param {ReceiptDetail[]} details
 * @param {string} id
 */
function receiptGrid(details, id) {
  const rows = details.map((d) => ({ ...d.receipt, detail: d }));
  /** @type {Column<(typeof rows)[number]>[]} */
  const columns = [
    ['id', 'receipt', (r) => r.id, (r) => [h('a', { href: `#/receipts/${r.id}` }, `#${r.id}`), ' ', h('a', { class: 'proof small', href: `/v1/proofs/receipts/${r.id}`, target: '_blank', rel: 'noopener' }, 'proof')]],
    ['class', 'class', (r) => r.class],
    ['custodian', 'custodian', (r) => r.custodian, (r) => fmt.short(r.custodian)],
    ['facility', 'facility', (r) => r.facility, (r) => h('span', { title: `jurisdiction ${r.jurisdiction}` }, r.facility)],
    ['quantity', 'units', (r) => r.quantity],
    ['insurance', 'insurance', (r) => r.detail.insurance.status, (r) => h('span', { class: `badge ${r.detail.insurance.status}` }, r.detail.insurance.status)],
    ['insurance_expires_at', 'insured until', (r) => r.detail.insurance.expires_at, (r) => fmt.date(r.detail.insurance.expires_at)],
    ['presence', 'hardware seen', (r) => r.detail.presence.status, (r) => h('span', { class: `badge ${r.detail.presence.status}`, title: presenceTitle(r.detail.presence) }, r.detail.presence.status)],
    ['valuation', 'appraisal', (r) => r.detail.valuation?.value ?? null, (r) => fmt.amount(r.detail.valuation?.value)],
    ['model_value_now', 'model now', (r) => r.detail.valuation?.model_value_now ?? null, (r) => fmt.amount(r.detail.valuation?.model_value_now)],
    ['value_for_ltv', 'value for LTV', (r) => r.detail.value_for_ltv, (r) => fmt.amount(r.detail.value_for_ltv)],
    ['loan', 'loan', (r) => r.loan, (r) => (r.loan === null ? '—' : h('a', { href: `#/loans/${r.loan}` }, `#${r.loan}`))],
    ['status', 'status', (r) => r.status, (r) => statusWords(r.status)],
  ];
  return grid(rows, columns.filter(([key]) => !(id === 'loan-receipts' && key === 'loan')), { id, cards: true });
}

/**
 * @param {Context} context
 * @param {string | undefined} id
 * @returns {Promise<Page>}
 */
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
    const r = body.receipt;
    const height = body.height;
    const proof = `/v1/proofs/receipts/${r.id}`;
    const v = body.valuation;
    const ins = body.insurance;
    node.append(section('Receipt', await stamp(height, proof), facts([
      ['class', 'class', r.class],
      ['custodian', 'custodian', r.custodian, r.custodian],
      ['owner', 'owner', r.owner, r.owner],
      ['facility', 'facility', r.facility, `${r.facility} (${r.jurisdiction})`],
      ['quantity', 'units', r.quantity],
      ['status', 'status', r.status, statusWords(r.status)],
      ['loan', 'loan', r.loan, r.loan === null ? '—' : h('a', { href: `#/loans/${r.loan}` }, `loan ${r.loan}`)],
      ['issued_at', 'issued', r.issued_at],
      ['eligible', 'eligible collateral', body.eligible, body.eligible ? 'yes' : `no (${body.ineligible_reason})`],
    ])));
    node.append(section('Insurance', await stamp(height, proof), facts([
      ['insurance_status', 'status', ins.status, h('span', { class: `badge ${ins.status}` }, ins.status)],
      ['insurer', 'insurer', ins.insurer, ins.insurer ?? '—'],
      ['coverage', 'coverage', ins.coverage, fmt.amount(ins.coverage)],
      ['expires_at', 'expires', ins.expires_at],
    ])));
    const p = body.presence;
    const seen = p.attestation;
    node.append(section('Hardware presence', await stamp(height, proof), facts([
      ['presence_status', 'status', p.status, h('span', { class: `badge ${p.status}` }, p.status)],
      ['presence_limit_secs', 'limit', p.limit_secs, p.limit_secs === 0 ? 'not monitored' : `${Math.round(p.limit_secs / 86400)} days`],
      ['presence_pending', 'scheduled limit', p.pending_limit_secs, p.pending_limit_secs === null ? '—' : `${Math.round(p.pending_limit_secs / 86400)} days from ${fmt.time(p.pending_effective_at)}`],
      ['monitor', 'monitor', seen?.monitor ?? null, seen ? seen.monitor : '—'],
      ['units_seen', 'units seen', seen?.units_seen ?? null, seen ? `${seen.units_seen} of ${r.quantity}${seen.all_present ? '' : ' (not all present)'}` : '—'],
      ['seen_at', 'seen at', seen?.facility ?? null, seen ? seen.facility : '—'],
      ['uptime_bps', 'uptime', seen?.uptime_bps ?? null, seen ? `${(seen.uptime_bps / 100).toFixed(2)}%` : '—'],
      ['as_of', 'as of', seen?.as_of ?? null, seen ? fmt.time(seen.as_of) : '—'],
      ['stale_at', 'stale at', p.stale_at, p.stale_at === null ? '—' : fmt.time(p.stale_at)],
    ])));
    const ratio = v && BigInt(v.value) > 0n ? Number((BigInt(v.model_value_now) * 10000n) / BigInt(v.value)) / 10000 : null;
    node.append(section('Valuation vs the depreciation model', await stamp(height, proof), v ? h('div', {},
      h('div', { class: 'figures' },
        await figure('receipt_appraisal', 'Appraisal', fmt.amount(v.value), { raw: v.value, height, proof, note: `by ${fmt.short(v.appraiser)}, ${fmt.time(v.at)}` }),
        await figure('receipt_model', 'Depreciation model now', fmt.amount(v.model_value_now), { raw: v.model_value_now, height, proof, note: ratio === null ? null : `${(ratio * 100).toFixed(1)}% of the appraisal` }),
        await figure('receipt_value_for_ltv', 'Value for LTV', fmt.amount(body.value_for_ltv), { raw: body.value_for_ltv, height, proof, note: 'the lesser of the two' })),
      ratio === null ? null : h('div', { class: 'ltv-row wide' }, h('span', {}, 'model / appraisal'), limitBar(ratio, [[1, 'appraisal']], `${(ratio * 100).toFixed(1)}%`))) : h('p', { class: 'empty' }, 'Not appraised yet.')));
    return { node };
  }
  let list;
  try {
    list = await read('/v1/receipts?limit=1000', '/v1/receipts');
  } catch (error) {
    if (!(error instanceof NotAvailable)) throw error;
    node.append(section('Every receipt', unavailable('Receipts', '/v1/receipts')));
    return { node };
  }
  const details = await Promise.all(list.receipts.map((r) => read(`/v1/receipts/${r.id}`, '/v1/receipts/{id}')));
  node.append(section('Every receipt', await stamp(list.height, null), receiptGrid(details, 'receipts'),
    h('p', { class: 'legend' }, 'Appraisal: the latest valuation; model now: that valuation depreciated by its class\'s model to this block; value for LTV: the lesser.')));
  return { node };
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
