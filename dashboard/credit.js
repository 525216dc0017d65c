// @ts-check
// The credit pages: the loan book and one loan, the curator silos, the hardware receipts. Each
// is `async (context) => ({ node, after })` like the other pages (pages.js), and every figure
// carries its stamp (block, state root, proof). Values from the API go into text nodes only.

import { NotAvailable, NotFound, read, readOptional } from './api.js';
import { facts, grid, h, limitBar, section, unavailable } from './dom.js';
import * as fmt from './format.js';
import { figure, stamp } from './pages.js';

/** @typedef {import('./pages.js').Page} Page */
/** @typedef {import('./pages.js').Context} Context */
/**
 * @template R
 * @typedef {import('./dom.js').Column<R>} Column
 */
/** @typedef {import('./api-types').GetAnswer<'/v1/loans'>['loans'][number]} Loan */
/** @typedef {import('./api-types').GetAnswer<'/v1/silos'>['silos'][number]} Silo */
/** @typedef {import('./api-types').GetAnswer<'/v1/receipts/{id}'>} ReceiptDetail */
/** @typedef {import('./api-types').GetAnswer<'/v1/loans/{id}'>} LoanDetail */

// ---- Credit: shared pieces -----------------------------------------------------------------

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
    ['income_value', 'income value', (r) => r.detail.income_value ?? null, (r) => fmt.amount(r.detail.income_value)],
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
        await figure('receipt_income_value', 'Income value (rental index)', fmt.amount(body.income_value), { raw: body.income_value ?? null, height, proof, note: body.income_value === null ? 'its class has no income terms' : `the rent its ${r.quantity} units can still earn, discounted` }),
        await figure('receipt_value_for_ltv', 'Value for LTV', fmt.amount(body.value_for_ltv), { raw: body.value_for_ltv, height, proof, note: body.income_value === null ? 'the lesser of the two' : 'the least of the three' })),
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
    h('p', { class: 'legend' }, 'Appraisal: the latest valuation; model now: that valuation depreciated by its class\'s model to this block; income value: the rent its units can still earn at its class\'s rental index, discounted (classes with income terms); value for LTV: the least of them.')));
  const classes = await readOptional('/v1/asset-classes?limit=100', '/v1/asset-classes');
  if (classes === null) node.append(section('Asset classes', unavailable('Asset classes', '/v1/asset-classes')));
  else node.append(section('Asset classes and rental indices', await stamp(classes.height, null), classGrid(classes.classes)));
  return { node };
}

/** @typedef {import('./api-types').GetAnswer<'/v1/asset-classes'>['classes'][number]} AssetClass */

/**
 * Asset classes with their rental index and income terms (issue 16).
 * @param {AssetClass[]} classes
 */
function classGrid(classes) {
  /** @param {string | null | undefined} wad a USD amount per unit-hour */
  const rent = (wad) => (wad === null || wad === undefined ? '—' : `$${fmt.amount(wad)}/h`);
  /** @type {Column<AssetClass>[]} */
  const columns = [
    ['class', 'class', (c) => c.class],
    ['new_price_per_unit', 'new price', (c) => c.new_price_per_unit, (c) => fmt.amount(c.new_price_per_unit)],
    ['annual_depreciation_bps', 'depreciation / yr', (c) => c.annual_depreciation_bps, (c) => fmt.bps(c.annual_depreciation_bps)],
    ['rent_per_unit_hour', 'rental index', (c) => c.rental_index?.rent_per_unit_hour ?? null, (c) => rent(c.rental_index?.rent_per_unit_hour)],
    ['index_fresh', 'index', (c) => c.rental_index ? String(c.rental_index.fresh) : null, (c) => (c.rental_index ? h('span', { class: `badge ${c.rental_index.fresh ? 'insured' : 'expired'}`, title: `posted ${fmt.time(c.rental_index.posted_at)}` }, c.rental_index.fresh ? 'fresh' : 'stale') : '—')],
    ['window', 'today\'s bounds', (c) => c.rental_index?.window_low ?? null, (c) => (c.rental_index?.window_low ? `${rent(c.rental_index.window_low)} – ${rent(c.rental_index.window_high)}` : '—')],
    ['income_terms', 'income terms', (c) => c.income_terms ? c.income_terms.utilisation_bps : null, (c) => (c.income_terms ? `${fmt.bps(c.income_terms.utilisation_bps)} used, ${fmt.bps(c.income_terms.opex_share_bps)} opex, ${fmt.bps(c.income_terms.discount_rate_bps_per_year)}/yr` : 'none')],
    ['economic_life_ends_at', 'life ends', (c) => c.income_terms?.economic_life_ends_at ?? null, (c) => fmt.date(c.income_terms?.economic_life_ends_at)],
    ['income_value_per_unit', 'income value / unit', (c) => c.income_value_per_unit ?? null, (c) => fmt.amount(c.income_value_per_unit)],
  ];
  return grid(classes, columns, { id: 'asset-classes', rowId: (c) => c.class, cards: true });
}
