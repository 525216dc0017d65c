// Drives the node's dashboard in headless Chromium (Debian's /usr/bin/chromium) with
// Playwright: opens every page at a laptop and a phone width, checks that each figure equals
// the API's answer at the block it names, submits a transaction with the CLI and waits for it
// to appear without a reload, and saves a screenshot of every page.
//
// Usage: node run.mjs <node url> <output dir> <infrafi binary> <devnet keys dir>
//        node run.mjs <node url> <output dir> <infrafi binary> <devnet keys dir> after-restart <latest_at>
// The second form runs after the node was killed and started again on its data directory:
// every history chart must be drawn with the node's points, including those sampled before
// the restart (at or before `latest_at`, the last sample's time read before the kill); then a
// liquidation on a loan page (it moves the devnet's clock, so it runs last).
// Prints one JSON summary line; exits non-zero on the first failed check.

import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as fmt from '../../dashboard/format.js';

const [url, outputDir, binary, keysDir, mode, beforeRestartLatestAt] = process.argv.slice(2);
if (!url || !outputDir || !binary || !keysDir) {
  console.error('usage: node run.mjs <node url> <output dir> <infrafi binary> <keys dir>');
  process.exit(2);
}
mkdirSync(outputDir, { recursive: true });

const PAGES = ['overview', 'loans', 'silos', 'receipts', 'queue', 'points'];
const VIEWPORTS = { laptop: { width: 1366, height: 768 }, phone: { width: 390, height: 844 } };

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function api(path) {
  const response = await fetch(url + path);
  check(response.ok, `${path} answered ${response.status}`);
  return response.json();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the CLI without blocking the event loop. `execFileSync` held it for the whole command
 * (a keystore's key derivation and a block's wait: seconds under load), so fetch's idle
 * keep-alive connections were not closed on their own timer and outlived the node's idle
 * timeout; the next API read then went out on a connection the node had closed ("fetch
 * failed", seen under load).
 */
const execFileAsync = promisify(execFile);
const cli = async (args) => {
  const running = execFileAsync(binary, args, { encoding: 'utf8' });
  running.child.stdin.end(); // nothing to read, as with the synchronous call's ignored stdin
  return (await running).stdout;
};

/** An error's message with its cause (fetch says only "fetch failed"; the cause says why). */
const describe = (error) => (error.cause ? `${error.message}: ${error.cause.message ?? error.cause}` : error.message);

const userDataDir = mkdtempSync(join(tmpdir(), 'infrafi-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: VIEWPORTS.laptop,
});
const consoleErrors = [];
const summary = { pages: [], figures_checked: 0, screenshots: [], live: null };

function watch(page) {
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  page.on('requestfailed', (request) => {
    // The event stream is cut when the page closes; nothing else may fail.
    if (!request.url().includes('/v1/events')) consoleErrors.push(`requestfailed: ${request.url()}`);
  });
}

async function open(page, name) {
  await page.evaluate((hash) => { location.hash = hash; }, `#/${name === 'overview' ? '' : name}`);
  await page.waitForSelector(`main[data-page="${name}"]`, { timeout: 15000 });
}

/** Every stamp names a block whose header has the state root it shows. */
async function checkStamps(page, name) {
  const stamps = await page.$$eval('.stamp', (all) => all.map((s) => [Number(s.dataset.height), s.dataset.root]));
  const unavailable = await page.$$eval('[data-unavailable]', (all) => all.length);
  check(stamps.length > 0 || unavailable > 0, `${name}: no figure stamp and no unavailable notice`);
  const seen = new Map();
  for (const [height, root] of stamps) {
    if (!seen.has(height)) seen.set(height, (await api(`/v1/blocks/${height}`)).header.state_root);
    check(seen.get(height) === root, `${name}: stamp #${height} shows root ${root}, header has ${seen.get(height)}`);
  }
  return stamps.length;
}

/**
 * API answers the test read, remembered by the block they name (the last `RECENT_BLOCKS`). The
 * page re-reads when the head moves, so it lags the head by its own read and render; under load
 * that lag can exceed a block time, and a fresh API read would then always be a block or two
 * ahead of the page ("page at #40, API at #42"). Comparing the page with the answer the test
 * read at the height the page shows compares like with like and checks just as much.
 */
const RECENT_BLOCKS = 64;
function answersByHeight() {
  const seen = new Map();
  return {
    add(answer) {
      seen.delete(answer.height);
      seen.set(answer.height, answer);
      if (seen.size > RECENT_BLOCKS) seen.delete(seen.keys().next().value);
      return answer;
    },
    at: (height) => seen.get(height),
    heights: () => [...seen.keys()].join(', '),
  };
}

/**
 * Compares page figures with the API's answer at the block each figure's stamp names, reading
 * the API until the test has an answer at every height the page shows.
 */
async function compareFigures(page, path, fields) {
  const answers = answersByHeight();
  let last = 'no attempt';
  for (let attempt = 0; attempt < 60; attempt++) {
    answers.add(await api(path));
    const shown = await page.$$eval('[data-figure]', (all) => all.map((f) => ({
      id: f.dataset.figure,
      raw: f.dataset.raw ?? null,
      text: f.querySelector('.value').textContent,
      height: Number(f.querySelector('.stamp').dataset.height),
    })));
    const byId = Object.fromEntries(shown.map((f) => [f.id, f]));
    const missing = fields.map(([id]) => byId[id]?.height).filter((h) => !answers.at(h));
    if (missing.length === 0) {
      for (const [id, field, format, textOf] of fields) {
        const figure = byId[id];
        check(figure, `figure ${id} is missing`);
        const answer = answers.at(figure.height);
        const expected = typeof field === 'function' ? field(answer) : answer[field];
        if (figure.raw !== null) check(figure.raw === String(expected), `${id}: page ${figure.raw}, API ${expected} at #${answer.height}`);
        // A fourth entry formats the figure's text from the whole answer (a ratio of two fields).
        const text = textOf ? textOf(answer) : format(expected);
        check(figure.text === text, `${id}: page shows "${figure.text}", API gives "${text}" at #${answer.height}`);
        summary.figures_checked += 1;
      }
      return Math.max(...fields.map(([id]) => byId[id].height));
    }
    last = `page at #${missing.join(', #')}, API read at #${answers.heights()}`;
    await sleep(150);
  }
  throw new Error(`the page never showed ${path} at a height the API was read at: ${last}`);
}

/**
 * Compares a table's cells (`data-raw` and text) with rows expected from an API read, row for
 * row. `expect()` reads the API and returns `{ height, rows: [{ id, cells: {key: [raw, text]} }] }`;
 * with a stamp, the rows compared are those the test read at the height the page's stamp names
 * (`answersByHeight`). Retries until the test has read that height, and reports the last difference.
 */
async function compareTable(page, table, expect, stampSelector) {
  const answers = answersByHeight();
  let last = 'no attempt';
  for (let attempt = 0; attempt < 60; attempt++) {
    const latest = answers.add(await expect());
    const shown = await page.evaluate(([t, s]) => {
      const stampNode = s ? document.querySelector(s) : null;
      const rows = [...document.querySelectorAll(`table[data-table="${t}"] tbody tr`)].map((tr) => ({
        id: tr.dataset.row,
        cells: Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map((td) => [td.dataset.key, [td.dataset.raw ?? null, td.textContent]])),
      }));
      return { height: stampNode ? Number(stampNode.dataset.height) : null, rows };
    }, [table, stampSelector]);
    const expected = stampSelector ? answers.at(shown.height) : latest;
    if (!expected) {
      last = `page at #${shown.height}, API read at #${answers.heights()}`;
      await sleep(200);
      continue;
    }
    const problems = [];
    if (shown.rows.length !== expected.rows.length) problems.push(`${shown.rows.length} rows vs API ${expected.rows.length}`);
    expected.rows.forEach((row, i) => {
      const got = shown.rows[i];
      if (!got || got.id !== String(row.id)) { problems.push(`row ${i}: id ${got?.id} vs ${row.id}`); return; }
      for (const [key, [raw, text]] of Object.entries(row.cells)) {
        const [gotRaw, gotText] = got.cells[key] ?? [undefined, undefined];
        if (raw !== undefined && gotRaw !== (raw === null ? null : String(raw))) problems.push(`${table} ${row.id}.${key}: raw ${gotRaw} vs ${raw}`);
        if (text !== undefined && gotText !== text) problems.push(`${table} ${row.id}.${key}: "${gotText}" vs "${text}"`);
      }
    });
    if (problems.length === 0) {
      summary.figures_checked += expected.rows.reduce((n, r) => n + Object.keys(r.cells).length, 0);
      return expected.height;
    }
    last = problems.slice(0, 5).join('; ');
    await sleep(200);
  }
  throw new Error(`table ${table} never matched the API: ${last}`);
}

const principalOf = (l) => (BigInt(l.senior.funded) + BigInt(l.junior.funded)).toString();
/** A loan's debt-service reserve as the loans table shows it: the share of its requirement held, or '—'. */
const reserveTextOf = (l) => {
  const r = l.debt_service_reserve;
  return BigInt(r.required) === 0n ? '—' : fmt.ratio(r.balance, r.required);
};

async function expectLoans() {
  const [body, receipts] = await Promise.all([api('/v1/loans?limit=1000'), api('/v1/receipts?limit=1000')]);
  const classOf = new Map(receipts.receipts.map((r) => [r.id, r.class]));
  const classes = (l) => [...new Set(l.receipts.map((id) => classOf.get(id)))].join(', ') || '—';
  return {
    height: body.height,
    rows: body.loans.map((l) => ({
      id: l.id,
      cells: {
        id: [l.id, `#${l.id} proof`],
        class: [classes(l), classes(l)],
        silo: [l.silo, `silo ${l.silo}`],
        borrower: [l.borrower, fmt.short(l.borrower)],
        principal: [principalOf(l), fmt.amount(principalOf(l))],
        balance: [l.balance, fmt.amount(l.balance)],
        apr_bps: [l.apr_bps, fmt.bps(l.apr_bps)],
        next_due_at: [l.status === 'active' ? l.next_due_at : null, l.status === 'active' ? fmt.time(l.next_due_at) : '—'],
        ltv_bps: [l.mark?.ltv_bps ?? null, undefined],
        debt_service_reserve: [l.debt_service_reserve.balance, reserveTextOf(l)],
        status: [l.status, undefined],
      },
    })),
  };
}

/** The recoveries table (issue 16): one row per asset class with defaulted loans. */
async function expectRecoveries() {
  const body = await api('/v1/recoveries');
  const rate = (bps) => (bps === null ? '—' : fmt.bps(bps));
  const money = (c, key) => [c[key], fmt.amount(c[key])];
  return {
    height: body.height,
    rows: body.classes.map((c) => ({
      id: c.class,
      cells: {
        class: [c.class, c.class],
        loans: [c.loans, `${c.loans} (${c.settled} settled)`],
        exposure_at_default: money(c, 'exposure_at_default'),
        gross: money(c, 'gross'),
        costs: money(c, 'costs'),
        insurance_paid: money(c, 'insurance_paid'),
        deficiency: money(c, 'deficiency'),
        receipts_written_off: [c.receipts_written_off, String(c.receipts_written_off)],
        recovery_rate_bps: [c.recovery_rate_bps, rate(c.recovery_rate_bps)],
        settled_recovery_rate_bps: [c.settled_recovery_rate_bps, rate(c.settled_recovery_rate_bps)],
      },
    })),
  };
}

async function expectSilos() {
  const body = await api('/v1/silos?limit=1000');
  const money = (s, key) => [s[key], fmt.amount(s[key])];
  return {
    height: body.height,
    rows: body.silos.map((s) => ({
      id: s.id,
      cells: {
        curator: [s.curator, fmt.short(s.curator)],
        pool_balance: money(s, 'pool_balance'),
        first_loss_capital: money(s, 'first_loss_capital'),
        first_loss_requirement: money(s, 'first_loss_requirement'),
        senior_cap: money(s, 'senior_cap'),
        senior_outstanding: money(s, 'senior_outstanding'),
        junior_outstanding: money(s, 'junior_outstanding'),
        losses_absorbed: money(s, 'losses_absorbed'),
        impairment: money(s, 'impairment'),
        loans_outstanding: [s.loans_outstanding, String(s.loans_outstanding)],
      },
    })),
  };
}

async function expectClasses() {
  const body = await api('/v1/asset-classes?limit=100');
  const rent = (wad) => (wad === null || wad === undefined ? '—' : `$${fmt.amount(wad)}/h`);
  return {
    height: body.height,
    rows: body.classes.map((c) => ({
      id: c.class,
      cells: {
        class: [c.class, c.class],
        new_price_per_unit: [c.new_price_per_unit, fmt.amount(c.new_price_per_unit)],
        rent_per_unit_hour: [c.rental_index?.rent_per_unit_hour ?? null, rent(c.rental_index?.rent_per_unit_hour)],
        index_fresh: [c.rental_index ? String(c.rental_index.fresh) : null, c.rental_index ? (c.rental_index.fresh ? 'fresh' : 'stale') : '—'],
        window: [c.rental_index?.window_low ?? null, c.rental_index?.window_low ? `${rent(c.rental_index.window_low)} – ${rent(c.rental_index.window_high)}` : '—'],
        economic_life_ends_at: [c.income_terms?.economic_life_ends_at ?? null, fmt.date(c.income_terms?.economic_life_ends_at)],
        income_value_per_unit: [c.income_value_per_unit ?? null, fmt.amount(c.income_value_per_unit)],
      },
    })),
  };
}

async function expectReceipts() {
  const body = await api('/v1/receipts?limit=1000');
  const details = await Promise.all(body.receipts.map((r) => api(`/v1/receipts/${r.id}`)));
  return {
    height: body.height,
    rows: details.map((d) => ({
      id: d.receipt.id,
      cells: {
        class: [d.receipt.class, d.receipt.class],
        custodian: [d.receipt.custodian, fmt.short(d.receipt.custodian)],
        id: [d.receipt.id, `#${d.receipt.id} proof`],
        facility: [d.receipt.facility, d.receipt.facility],
        insurance: [d.insurance.status, d.insurance.status],
        insurance_expires_at: [d.insurance.expires_at, fmt.date(d.insurance.expires_at)],
        presence: [d.presence.status, d.presence.status],
        valuation: [d.valuation?.value ?? null, fmt.amount(d.valuation?.value)],
        model_value_now: [d.valuation?.model_value_now ?? null, fmt.amount(d.valuation?.model_value_now)],
        income_value: [d.income_value ?? null, fmt.amount(d.income_value)],
        value_for_ltv: [d.value_for_ltv, fmt.amount(d.value_for_ltv)],
        loan: [d.receipt.loan, d.receipt.loan === null ? '—' : `#${d.receipt.loan}`],
        status: [d.receipt.status, d.receipt.status.replaceAll('_', ' ')],
      },
    })),
  };
}

const openapi = await api('/openapi.json');
const served = (path) => Boolean(openapi.paths[path]?.get);

/**
 * After a restart: each chart's point count equals the node's series over the window the page
 * reads (90 days before the latest sample), and that window holds points sampled before the
 * restart. The page re-reads when the node records a new sample, so retry until both agree.
 */
async function chartsAfterRestart(page) {
  const CHARTS = {
    overview: { 'price-chart': ['deposit_price'], 'apy-chart': ['realised_apy_7d', 'realised_apy_30d'] },
    queue: { 'depth-chart': ['queue_locked_shares'], 'clearing-chart': ['clearing_price'] },
  };
  const before = Number(beforeRestartLatestAt);
  const charts = {};
  for (const [name, ofPage] of Object.entries(CHARTS)) {
    await open(page, name);
    for (const [chart, series] of Object.entries(ofPage)) {
      let last = 'no attempt';
      for (let attempt = 0; ; attempt++) {
        const index = await api('/v1/history');
        const from = Math.max(0, index.latest_at - 90 * 86_400);
        const bodies = await Promise.all(series.map((s) => api(`/v1/history/${s}?from=${from}&to=${index.latest_at}`)));
        const expected = bodies.reduce((sum, b) => sum + b.points.length, 0);
        const recordedBefore = bodies.reduce((sum, b) => sum + b.points.filter((p) => p.timestamp <= before).length, 0);
        const shown = await page.$eval(`#${chart}`, (c) => Number(c.dataset.points)).catch(() => -1);
        const drawn = Boolean(await page.$(`#${chart} canvas`));
        last = `${chart}: page ${shown} points (drawn ${drawn}), API ${expected} (${recordedBefore} sampled before the restart)`;
        if (shown === expected && drawn && recordedBefore > 0) {
          charts[chart] = { points: shown, sampled_before_restart: recordedBefore };
          break;
        }
        check(attempt < 60, last);
        await sleep(250);
      }
    }
    const file = join(outputDir, `${name}-after-restart.png`);
    await page.screenshot({ path: file, fullPage: true });
    summary.screenshots.push(file);
  }
  return charts;
}

/**
 * A liquidation on the loan page (issue 11), run last because it moves the devnet's clock:
 * the devnet's late loan in northwind's silo is defaulted and foreclosed to the liquidator with
 * the CLI 30 days on; its page shows the agent, the sale deadline and who may act next (the
 * agent alone) as the API says. 90 days on, the curator's hand-over is refused
 * (`sender_may_not_hand_over_after_sale_deadline`), the page names the admin, the admin writes
 * a receipt off and the loan's receipt grid reads "written off".
 */
async function liquidation(page) {
  const key = (name) => join(keysDir, `${name}.json`);
  const addressOf = (name) => JSON.parse(readFileSync(key(name), 'utf8')).address.toLowerCase();
  const tx = async (name, args) => {
    try {
      return { ok: true, out: await cli(['tx', '--node', url, '--keystore', key(name), ...args]) };
    } catch (error) {
      return { ok: false, out: `${error.stdout ?? ''}${error.stderr ?? ''}` };
    }
  };
  const advance = async (seconds) => {
    const response = await fetch(url + '/v1/devnet/advance-time', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds }) });
    check(response.ok, `advance-time answered ${response.status}`);
  };
  const curator = addressOf('northwind');
  const silos = (await api('/v1/silos?limit=1000')).silos;
  const now = (await api('/v1/status')).timestamp;
  const late = (await api('/v1/loans?limit=1000')).loans.find((l) => l.status === 'active' && l.next_due_at < now
    && silos.find((s) => s.id === l.silo)?.curator.toLowerCase() === curator);
  check(late, 'the devnet has a late loan in northwind\'s silo');
  await advance(30 * 86_400);
  await tx('alice', ['trigger-default', '--loan-id', String(late.id)]); // the keeper may send it first
  for (let attempt = 0; (await api(`/v1/loans/${late.id}`)).loan.status !== 'defaulted'; attempt++) {
    check(attempt < 200, `loan ${late.id} was never defaulted`);
    await sleep(100);
  }
  const agent = addressOf('liquidator');
  const handOver = ['foreclose-loan', '--loan-id', String(late.id), '--liquidation-agent', agent];
  const foreclosed = await tx('northwind', handOver);
  check(foreclosed.ok, `foreclosure: ${foreclosed.out}`);
  const shown = { foreclosed: await liquidationFacts(page, late.id, 'liquidation_agent') };
  await advance(90 * 86_400);
  const refused = await tx('northwind', handOver);
  check(!refused.ok && refused.out.includes('sender_may_not_hand_over_after_sale_deadline'), `the curator's hand-over after the deadline: ${refused.out}`);
  shown.deadline_passed = await liquidationFacts(page, late.id, 'admin');
  const receiptId = late.receipts[0];
  const written = await tx('admin', ['write-off-receipt', '--receipt-id', String(receiptId)]);
  check(written.ok, `write-off: ${written.out}`);
  await page.evaluate((hash) => { location.hash = hash; }, `#/receipts/${receiptId}`);
  const cell = `dd[data-key="status"][data-raw="written_off"]`;
  await page.waitForSelector(cell, { timeout: 15000 });
  const text = await page.$eval(cell, (dd) => dd.textContent);
  check(text === 'written off', `a written-off receipt's status reads "${text}"`);
  return { loan: late.id, receipt: receiptId, ...shown };
}

/**
 * Opens loan `id`'s page and compares its liquidation facts with the API's answer at the height
 * the section names (`answersByHeight`: retrying until the test has read it); `who` is who may
 * act next.
 */
async function liquidationFacts(page, id, who) {
  await open(page, 'loans');
  await page.evaluate((hash) => { location.hash = hash; }, `#/loans/${id}`);
  await page.waitForFunction((loan) => document.querySelector('main h1')?.textContent === `Loan ${loan}` && document.querySelector('dd[data-key="liquidation_next"]'), id, { timeout: 15000 });
  const answers = answersByHeight();
  let last = 'no attempt';
  for (let attempt = 0; attempt < 60; attempt++) {
    answers.add(await api(`/v1/loans/${id}`));
    const facts = await page.evaluate(() => ({
      height: Number(document.querySelector('section.panel:has(dd[data-key="liquidation_next"]) .stamp')?.dataset.height),
      ...Object.fromEntries([...document.querySelectorAll('dd[data-key]')].map((dd) => [dd.dataset.key, [dd.dataset.raw ?? null, dd.textContent]])),
    }));
    const d = answers.at(facts.height);
    if (!d) {
      last = `page at #${facts.height}, API read at #${answers.heights()}`;
      await sleep(200);
      continue;
    }
    const deadline = d.sale_deadline_at;
    const passed = who === 'admin';
    const expected = {
      liquidation_agent: [d.liquidation_agent, d.liquidation_agent],
      sale_deadline_at: [String(deadline), `${fmt.time(deadline)}${passed ? ' (passed)' : ''}`],
      defaulted_at: [String(d.loan.defaulted_at), undefined],
    };
    const problems = [];
    for (const [k, [raw, text]] of Object.entries(expected)) {
      if (facts[k]?.[0] !== raw) problems.push(`${k}: raw ${facts[k]?.[0]} vs ${raw}`);
      if (text !== undefined && facts[k]?.[1] !== text) problems.push(`${k}: "${facts[k]?.[1]}" vs "${text}"`);
    }
    if (facts.liquidation_next?.[0] !== who) problems.push(`who acts next: ${facts.liquidation_next?.[0]} vs ${who}`);
    if (problems.length === 0) {
      summary.figures_checked += 4;
      return { height: d.height, sale_deadline_at: deadline, next: facts.liquidation_next[1] };
    }
    last = problems.join('; ');
    await sleep(200);
  }
  throw new Error(`loan ${id}'s liquidation never matched the API: ${last}`);
}

if (mode === 'after-restart') {
  check(Number.isFinite(Number(beforeRestartLatestAt)), 'after-restart needs the latest sample time read before the restart');
  try {
    const page = await context.newPage();
    watch(page);
    await page.goto(url + '/', { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('main[data-page="overview"]', { timeout: 20000 });
    const charts = await chartsAfterRestart(page);
    const liquidated = await liquidation(page);
    check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
    console.log(JSON.stringify({ ok: true, charts, liquidation: liquidated, screenshots: summary.screenshots }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: describe(error), console: consoleErrors, ...summary }));
    process.exitCode = 1;
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  process.exit();
}

try {
  const page = await context.newPage();
  watch(page);
  await page.goto(url + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('main[data-page="overview"]', { timeout: 20000 });
  await page.waitForSelector('#live[data-state="live"]', { timeout: 20000 });
  await page.evaluate(() => { window.__sameDocument = true; });

  for (const name of PAGES) {
    await open(page, name);
    const stamps = await checkStamps(page, name);
    if (name === 'overview') {
      await compareFigures(page, '/v1/reserve', [
        ['usdai_supply', 'usdai_supply', fmt.amount],
        ['reserve_value', 'reserve_value', fmt.amount],
        ['backing_ratio', (r) => r.attested.backing_bps, fmt.bps],
        ['ledger_backing', (r) => r.ledger_backing_bps, () => null, (r) => fmt.ratio(r.reserve_value, r.usdai_supply)],
        ['attested_value', (r) => r.attested.attestation.market_value, fmt.amount],
        ['attestation_age', (r) => String(r.attested.age_secs), fmt.duration],
        ['mint_headroom', (r) => r.attested.mint_headroom, fmt.amount],
        ['attestor', (r) => r.attested.attestation.custodian, fmt.short],
        ['tbill_rate', 'tbill_apr_bps', fmt.bps],
        ['mint_room', (r) => r.rate_limits.mint.room, (x) => (x === null ? 'no limit' : fmt.amount(x))],
        ['redeem_room', (r) => r.rate_limits.redeem.room, (x) => (x === null ? 'no limit' : fmt.amount(x))],
      ]);
      // The attestation history: one row per attestation, newest first, ids as the API's.
      const history = await api('/v1/reserve/attestations?limit=20');
      const rows = await page.$$eval('[data-table="attestations"] tbody tr', (all) => all.map((row) => row.dataset.row));
      check(rows.length > 0 && rows.join() === history.attestations.map((a) => String(a.id)).join(), `attestation rows: page ${rows}, API ${history.attestations.map((a) => a.id)}`);
      // The deposit queue: one row per waiting deposit, head first, and the head's state.
      const queued = await api('/v1/reserve/deposit-queue?limit=20');
      const queueRows = await page.$$eval('[data-table="deposit-queue"] tbody tr', (all) => all.map((row) => row.dataset.row));
      check(queueRows.join() === queued.deposits.map((d) => String(d.id)).join(), `deposit queue rows: page ${queueRows}, API ${queued.deposits.map((d) => d.id)}`);
      const summary = await page.$eval('#deposit-queue-summary', (p) => [p.dataset.length, p.dataset.head]);
      check(summary[0] === String(queued.length) && summary[1] === (queued.head ?? 'empty'), `deposit queue summary: page ${summary}, API ${queued.length} ${queued.head}`);
      summary.figures_checked += 1;
      await compareFigures(page, '/v1/vault', [
        ['deposit_price', 'deposit_price', fmt.price],
        ['redemption_price', 'redemption_price', fmt.price],
        ['share_supply', 'share_supply', fmt.amount],
        ['nav_optimistic', 'nav_optimistic', fmt.amount],
        ['nav_conservative', 'nav_conservative', fmt.amount],
        ['nav_idle', (v) => v.phase_mix.idle, fmt.amount],
        ['nav_deployed', (v) => v.phase_mix.deployed, fmt.amount],
        ['deployed_share', (v) => String(v.phase_mix.deployed_bps), fmt.bps],
        ['apy_projected', (v) => String(v.phase_mix.blended_apy_bps), fmt.bps],
      ]);
      // The realised APYs are the last points of the node's history series, and the charts
      // are drawn from that history (the devnet's bootstrap spans 68 days of block time).
      for (const days of [7, 30]) {
        let last = 'no attempt';
        for (let attempt = 0; ; attempt++) {
          const series = await api(`/v1/history/realised_apy_${days}d`);
          const point = series.points[series.points.length - 1];
          const shown = await page.$eval(`[data-figure="apy_realised_${days}d"]`, (f) => ({ raw: f.dataset.raw ?? null, text: f.querySelector('.value').textContent }));
          last = `page ${JSON.stringify(shown)}, API ${JSON.stringify(point)}`;
          if (point && shown.raw === point.value && shown.text === fmt.bps(point.value)) break;
          check(attempt < 40, `realised APY ${days}d: ${last}`);
          await sleep(150);
        }
        summary.figures_checked += 1;
      }
      for (const chart of ['price-chart', 'apy-chart']) {
        const points = await page.$eval(`#${chart}`, (c) => Number(c.dataset.points));
        check(points > 0, `${chart} has no points from the node's history`);
        check(await page.$(`#${chart} canvas`), `${chart} is not drawn`);
      }
    }
    if (name === 'queue') {
      await compareFigures(page, '/v1/queue?limit=1000', [
        ['rounds', (q) => String(q.rounds), (x) => x],
        ['round_liquidity', 'round_liquidity', fmt.amount],
        ['locked_shares', 'locked_shares', fmt.amount],
      ]);
      for (const chart of ['depth-chart', 'clearing-chart']) {
        const points = await page.$eval(`#${chart}`, (c) => Number(c.dataset.points));
        check(points > 0, `${chart} has no points from the node's history`);
      }
      const queue = await api('/v1/queue?limit=1000');
      const rows = await page.$$eval('table[data-table="requests"] tbody tr', (all) => all.map((r) => r.dataset.row));
      check(rows.length === queue.requests.length, `queue rows ${rows.length} vs API ${queue.requests.length}`);
    }
    if (name === 'loans') {
      await compareTable(page, 'loans', expectLoans, 'section.panel:has(table[data-table="loans"]) .stamp');
      // Recoveries per class (issue 16): the devnet liquidated a loan below its insured floor.
      await compareTable(page, 'recoveries', expectRecoveries, 'section.panel:has(table[data-table="recoveries"]) .stamp');
      const recoveries = await api('/v1/recoveries');
      check(recoveries.classes.some((c) => c.settled > 0 && BigInt(c.insurance_paid) > 0n), `the devnet has a settled liquidation the insurer paid: ${JSON.stringify(recoveries.classes)}`);
      const book = await api('/v1/loans?limit=1000');
      check(book.loans.some((l) => l.margin_call), 'the devnet book has a loan in margin call');
      const flagged = await page.$$eval('table[data-table="loans"] [data-flag="margin_call"]', (all) => all.length);
      check(flagged === book.loans.filter((l) => l.margin_call).length, `margin-call flags ${flagged}`);
      const bars = await page.$$eval('table[data-table="loans"] td[data-key="ltv_bps"] .bar', (all) => all.length);
      // A bar for each open loan with a finite mark (a closed loan's last mark is not drawn).
      const barred = book.loans.filter((l) => l.mark && (l.status === 'active' || l.status === 'defaulted') && l.mark.ltv_bps !== '340282366920938463463374607431768211455');
      check(bars === barred.length, `LTV bars ${bars} vs ${barred.length}`);
      // Covenants: the devnet has a loan whose reserve paid a missed payment and is breached.
      await compareFigures(page, '/v1/loans?limit=1000', [
        ['loans_breached', (b) => String(b.loans.filter((l) => l.breached).length), (x) => x],
        ['loans_reserves', (b) => b.loans.filter((l) => l.status === 'active' || l.status === 'defaulted').reduce((sum, l) => sum + BigInt(l.debt_service_reserve.balance), 0n).toString(), fmt.amount],
      ]);
      const breached = book.loans.filter((l) => l.breached);
      check(breached.some((l) => BigInt(l.debt_service_reserve.drawn_total) > 0n), 'the devnet book has a loan whose reserve was drawn');
      const breachFlags = await page.$$eval('table[data-table="loans"] [data-flag="breached"]', (all) => all.length);
      check(breachFlags === breached.length, `breach flags ${breachFlags} vs API ${breached.length}`);
      const reserveBars = await page.$$eval('table[data-table="loans"] td[data-key="debt_service_reserve"] .bar', (all) => all.length);
      check(reserveBars === book.loans.filter((l) => BigInt(l.debt_service_reserve.required) > 0n).length, `reserve bars ${reserveBars}`);
      // One loan page: the first active loan with a schedule.
      const chosen = book.loans.find((l) => l.status === 'active') ?? book.loans[0];
      await page.evaluate((hash) => { location.hash = hash; }, `#/loans/${chosen.id}`);
      await page.waitForSelector('[data-figure="loan_balance"]', { timeout: 15000 });
      const detailFigures = [
        ['loan_principal', (d) => principalOf(d.loan), fmt.amount],
        ['loan_balance', (d) => d.loan.balance, fmt.amount],
        ['loan_rate', (d) => String(d.loan.apr_bps), fmt.bps],
        ['loan_ltv', (d) => d.loan.mark?.ltv_bps ?? null, (x) => (x === null ? '—' : fmt.bps(x))],
        ['loan_status', (d) => d.loan.status, (x) => x],
      ];
      const detail = answersByHeight();
      for (let attempt = 0; ; attempt++) {
        detail.add(await api(`/v1/loans/${chosen.id}`));
        const shown = await page.$$eval('[data-figure]', (all) => Object.fromEntries(all.map((f) => [f.dataset.figure, { raw: f.dataset.raw ?? null, text: f.querySelector('.value').textContent, height: Number(f.querySelector('.stamp').dataset.height) }])));
        const d = detail.at(shown.loan_balance.height);
        check(d || attempt < 60, `loan ${chosen.id}'s page at #${shown.loan_balance.height}, API read at #${detail.heights()}`);
        if (d) {
          for (const [id, get, format] of detailFigures) {
            const value = get(d);
            check(shown[id].raw === (value === null ? null : String(value)), `loan ${chosen.id} ${id}: page ${shown[id].raw}, API ${value}`);
            check(shown[id].text === format(value), `loan ${chosen.id} ${id}: "${shown[id].text}" vs "${format(value)}"`);
            summary.figures_checked += 1;
          }
          break;
        }
        await sleep(200);
      }
      await compareTable(page, 'tranches', async () => {
        const d = await api(`/v1/loans/${chosen.id}`);
        return { height: d.height, rows: ['senior', 'junior'].map((t) => ({ id: t, cells: { funded: [d.loan[t].funded, fmt.amount(d.loan[t].funded)], principal: [d.loan[t].principal, fmt.amount(d.loan[t].principal)], apr_bps: [d.loan[t].apr_bps, fmt.bps(d.loan[t].apr_bps)] } })) };
      }, 'section.panel:has(table[data-table="tranches"]) .stamp');
      if (chosen.status === 'active') {
        await compareTable(page, 'schedule', async () => {
          const d = await api(`/v1/loans/${chosen.id}`);
          return { height: d.height, rows: d.schedule.remaining.map((p) => ({ id: p.due_at, cells: { due_at: [p.due_at, fmt.time(p.due_at)], payment: [p.payment, fmt.amount(p.payment)], closing_balance: [p.closing_balance, fmt.amount(p.closing_balance)] } })) };
        }, 'section.panel:has(table[data-table="schedule"]) .stamp');
      }
      const pledged = await page.$$eval('table[data-table="loan-receipts"] tbody tr', (all) => all.map((r) => Number(r.dataset.row)));
      check(JSON.stringify(pledged) === JSON.stringify(chosen.receipts), `loan ${chosen.id} receipts ${pledged} vs ${chosen.receipts}`);
      // The breached loan's page: its covenant facts are the API's.
      const drawn = breached.find((l) => BigInt(l.debt_service_reserve.drawn_total) > 0n);
      await page.evaluate((hash) => { location.hash = hash; }, `#/loans/${drawn.id}`);
      // The loans list and a loan's page share the route name: wait for this loan's heading.
      await page.waitForFunction((id) => document.querySelector('main h1')?.textContent === `Loan ${id}` && document.querySelector('dd[data-key="reserve_drawn_total"]'), drawn.id, { timeout: 15000 });
      for (let attempt = 0; ; attempt++) {
        const d = (await api(`/v1/loans/${drawn.id}`)).loan;
        const shown = await page.$$eval('dl.facts dd[data-key]', (all) => Object.fromEntries(all.map((dd) => [dd.dataset.key, { raw: dd.dataset.raw ?? null, text: dd.textContent }])));
        const expected = {
          breached: [String(d.breached), d.breach ? `yes: ${d.breach.reason.replaceAll('_', ' ')}, since ${fmt.time(d.breach.opened_at)}` : 'no'],
          breach_cure_deadline: [d.breach ? String(d.breach.cure_deadline_at) : null, undefined],
          reserve_periods: [String(d.debt_service_reserve.periods), undefined],
          reserve_required: [d.debt_service_reserve.required, fmt.amount(d.debt_service_reserve.required)],
          reserve_balance: [d.debt_service_reserve.balance, fmt.amount(d.debt_service_reserve.balance)],
          reserve_drawn_total: [d.debt_service_reserve.drawn_total, fmt.amount(d.debt_service_reserve.drawn_total)],
          report_interval_secs: [String(d.report_interval_secs), `every ${fmt.duration(d.report_interval_secs)}`],
          report_due_at: [d.report_due_at === null ? null : String(d.report_due_at), d.report_due_at === null ? '—' : fmt.time(d.report_due_at)],
        };
        const problems = Object.entries(expected).flatMap(([key, [raw, text]]) => {
          const got = shown[key];
          if (!got) return [`${key} missing`];
          return [
            got.raw === raw ? null : `${key}: raw ${got.raw} vs ${raw}`,
            text === undefined || got.text === text ? null : `${key}: "${got.text}" vs "${text}"`,
          ].filter(Boolean);
        });
        if (problems.length === 0) { summary.figures_checked += Object.keys(expected).length; break; }
        check(attempt < 60, `loan ${drawn.id} covenants: ${problems.join('; ')}`);
        await sleep(200);
      }
      check(drawn.breach?.reason === 'reserve_below_requirement', `loan ${drawn.id} breach: ${JSON.stringify(drawn.breach)}`);
      // The liquidated loan's page: its recovery ledger is the API's.
      const liquidated = book.loans.find((l) => l.status === 'settled');
      check(liquidated, 'the devnet book has a settled (liquidated) loan');
      await page.evaluate((hash) => { location.hash = hash; }, `#/loans/${liquidated.id}`);
      await page.waitForFunction((id) => document.querySelector('main h1')?.textContent === `Loan ${id}` && document.querySelector('dd[data-key="recovery_rate_bps"]'), liquidated.id, { timeout: 15000 });
      {
        const r = (await api(`/v1/loans/${liquidated.id}`)).recovery;
        check(r && BigInt(r.insurance_paid) > 0n && r.settled, `loan ${liquidated.id} recovery: ${JSON.stringify(r)}`);
        const shown = await page.$$eval('dl.facts dd[data-key]', (all) => Object.fromEntries(all.map((dd) => [dd.dataset.key, { raw: dd.dataset.raw ?? null, text: dd.textContent }])));
        const expected = {
          exposure_at_default: [r.exposure_at_default, fmt.amount(r.exposure_at_default)],
          gross: [r.gross, fmt.amount(r.gross)],
          costs: [r.costs, `${fmt.amount(r.costs)} (ITAD ${fmt.amount(r.itad_commission)}, legal ${fmt.amount(r.legal_costs)}, logistics ${fmt.amount(r.logistics_costs)}, data destruction ${fmt.amount(r.data_destruction_costs)})`],
          net: [r.net, fmt.amount(r.net)],
          insurance_paid: [r.insurance_paid, fmt.amount(r.insurance_paid)],
          residual_owed: [r.residual_owed, fmt.amount(r.residual_owed)],
          receipts_written_off: [String(r.receipts_written_off), String(r.receipts_written_off)],
          recovery_rate_bps: [String(r.recovery_rate_bps), fmt.bps(r.recovery_rate_bps)],
        };
        const problems = Object.entries(expected).flatMap(([key, [raw, text]]) => {
          const got = shown[key];
          if (!got) return [`${key} missing`];
          return [got.raw === raw ? null : `${key}: raw ${got.raw} vs ${raw}`, got.text === text ? null : `${key}: "${got.text}" vs "${text}"`].filter(Boolean);
        });
        check(problems.length === 0, `loan ${liquidated.id} recovery ledger: ${problems.join('; ')}`);
        summary.figures_checked += Object.keys(expected).length;
      }
      await open(page, 'loans');
    }
    if (name === 'silos') {
      await compareTable(page, 'silos', expectSilos, 'section.panel:has(table[data-table="silos"]) .stamp');
    }
    if (name === 'receipts') {
      await compareTable(page, 'receipts', expectReceipts, 'section.panel:has(table[data-table="receipts"]) .stamp');
      await compareTable(page, 'asset-classes', expectClasses, 'section.panel:has(table[data-table="asset-classes"]) .stamp');
      const h100 = (await api('/v1/asset-classes?limit=100')).classes.find((c) => c.class === 'gpu.h100-sxm');
      check(h100?.rental_index && h100.income_terms && h100.income_value_per_unit, `the devnet's H100 class has a rental index and income terms: ${JSON.stringify(h100)}`);
    }
    if (name === 'points') {
      const board = await api('/v1/points/leaderboard?limit=100');
      const rows = await page.$$eval('table[data-table="leaders"] tbody tr td[data-key="address"]', (all) => all.map((c) => c.dataset.raw));
      check(rows.length === board.leaders.length, `leaderboard rows ${rows.length} vs API ${board.leaders.length}`);
      board.leaders.forEach((leader, i) => check(rows[i] === leader.address, `rank ${i + 1}: ${rows[i]} vs ${leader.address}`));
    }
    for (const [objectPage, path] of [['loans', '/v1/loans'], ['silos', '/v1/silos'], ['receipts', '/v1/receipts']]) {
      if (name !== objectPage) continue;
      const notice = await page.$(`[data-unavailable="${path}"]`);
      if (served(path)) check(!notice, `${name}: the node serves ${path} but the page says it does not`);
      else check(notice, `${name}: the node does not serve ${path} and the page does not say so`);
    }
    if (name === 'queue') {
      for (const path of ['/v1/queue/rounds', '/v1/queue/listings']) {
        const notice = await page.$(`[data-unavailable="${path}"]`);
        check(served(path) ? !notice : notice, `queue: availability of ${path}`);
      }
    }
    summary.pages.push({ page: name, stamps });
  }

  // Live: a transaction submitted through the CLI appears without a reload.
  await open(page, 'queue');
  const output = await cli([
    'tx', '--node', url, '--keystore', join(keysDir, 'alice.json'), 'request-redeem', '--shares', '123.25',
  ]);
  const receipt = JSON.parse(output);
  check(receipt.status === 'applied', `CLI transaction: ${output}`);
  const requested = receipt.events.find((e) => e.kind === 'redemption_requested');
  check(requested, 'no redemption_requested event');
  await page.waitForSelector(`table[data-table="requests"] tr[data-row="${requested.request_id}"]`, { timeout: 15000 });
  const shares = await page.$eval(`table[data-table="requests"] tr[data-row="${requested.request_id}"] td[data-key="shares_remaining"]`, (c) => c.textContent);
  check(shares === '123.25', `new request shows ${shares} shares`);
  await open(page, 'overview');
  await page.waitForSelector(`#feed li[data-tx="${receipt.tx_hash}"]`, { timeout: 15000 });
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
  summary.live = { tx_hash: receipt.tx_hash, request_id: requested.request_id };

  // Screenshots: every page at both widths, after the live update.
  for (const [width, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    for (const name of PAGES) {
      await open(page, name);
      await sleep(400); // the resize re-render and the charts
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      check(overflow <= 0, `${name} at ${width} width scrolls sideways by ${overflow}px`);
      // On a laptop the loans and recoveries tables fit their panels: no scrolling inside either.
      if (name === 'loans' && width === 'laptop') {
        const inner = await page.$eval('table[data-table="loans"]', (t) => t.parentElement.scrollWidth - t.parentElement.clientWidth);
        const widths = await page.$$eval('table[data-table="loans"] thead th', (all) => all.map((th) => `${th.textContent}:${Math.round(th.getBoundingClientRect().width)}`).join(' '));
        check(inner <= 0, `the loans table at ${viewport.width}x${viewport.height} scrolls sideways by ${inner}px (${widths})`);
        const recoveriesInner = await page.$eval('table[data-table="recoveries"]', (t) => t.parentElement.scrollWidth - t.parentElement.clientWidth);
        check(recoveriesInner <= 0, `the recoveries table at ${viewport.width}x${viewport.height} scrolls sideways by ${recoveriesInner}px`);
      }
      const file = join(outputDir, `${name}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      summary.screenshots.push(file);
    }
  }
  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
  console.log(JSON.stringify({ ok: true, ...summary }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: describe(error), console: consoleErrors, ...summary }));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
