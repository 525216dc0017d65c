// Drives the node's dashboard in headless Chromium (Debian's /usr/bin/chromium) with
// Playwright: opens every page at a laptop and a phone width, checks that each figure equals
// the API's answer at the block it names, submits a transaction with the CLI and waits for it
// to appear without a reload, and saves a screenshot of every page.
//
// Usage: node run.mjs <node url> <output dir> <infrafi binary> <devnet keys dir>
// Prints one JSON summary line; exits non-zero on the first failed check.

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fmt from '../../dashboard/format.js';

const [url, outputDir, binary, keysDir] = process.argv.slice(2);
if (!url || !outputDir || !binary || !keysDir) {
  console.error('usage: node run.mjs <node url> <output dir> <infrafi binary> <keys dir>');
  process.exit(2);
}
mkdirSync(outputDir, { recursive: true });

const PAGES = ['overview', 'loans', 'silos', 'receipts', 'queue', 'points'];
const VIEWPORTS = { laptop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } };

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function api(path) {
  const response = await fetch(url + path);
  check(response.ok, `${path} answered ${response.status}`);
  return response.json();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
 * Compares page figures with one API read at the same height. The page re-reads when the head
 * moves, so heights line up within a block or two; retry until they do.
 */
async function compareFigures(page, path, fields) {
  for (let attempt = 0; attempt < 60; attempt++) {
    const answer = await api(path);
    const shown = await page.$$eval('[data-figure]', (all) => all.map((f) => ({
      id: f.dataset.figure,
      raw: f.dataset.raw ?? null,
      text: f.querySelector('.value').textContent,
      height: Number(f.querySelector('.stamp').dataset.height),
    })));
    const byId = Object.fromEntries(shown.map((f) => [f.id, f]));
    const heights = fields.map(([id]) => byId[id]?.height);
    if (heights.every((h) => h === answer.height)) {
      for (const [id, field, format] of fields) {
        const figure = byId[id];
        check(figure, `figure ${id} is missing`);
        const expected = typeof field === 'function' ? field(answer) : answer[field];
        if (figure.raw !== null) check(figure.raw === String(expected), `${id}: page ${figure.raw}, API ${expected} at #${answer.height}`);
        check(figure.text === format(expected), `${id}: page shows "${figure.text}", API gives "${format(expected)}"`);
        summary.figures_checked += 1;
      }
      return answer.height;
    }
    await sleep(150);
  }
  throw new Error(`the page never showed ${path} at the API's height`);
}

const openapi = await api('/openapi.json');
const served = (path) => Boolean(openapi.paths[path]?.get);

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
        ['backing_ratio', (r) => fmt.ratio(r.reserve_value, r.usdai_supply), (x) => x],
        ['tbill_rate', 'tbill_apr_bps', fmt.bps],
      ]);
      await compareFigures(page, '/v1/vault', [
        ['deposit_price', 'deposit_price', fmt.price],
        ['redemption_price', 'redemption_price', fmt.price],
        ['share_supply', 'share_supply', fmt.amount],
        ['nav_optimistic', 'nav_optimistic', fmt.amount],
        ['nav_conservative', 'nav_conservative', fmt.amount],
        ['nav_idle', (v) => (BigInt(v.unallocated) + BigInt(v.unvested)).toString(), fmt.amount],
      ]);
    }
    if (name === 'queue') {
      await compareFigures(page, '/v1/queue?limit=1000', [
        ['rounds', (q) => String(q.rounds), (x) => x],
        ['round_liquidity', 'round_liquidity', fmt.amount],
        ['locked_shares', 'locked_shares', fmt.amount],
      ]);
      const queue = await api('/v1/queue?limit=1000');
      const rows = await page.$$eval('table[data-table="requests"] tbody tr', (all) => all.map((r) => r.dataset.row));
      check(rows.length === queue.requests.length, `queue rows ${rows.length} vs API ${queue.requests.length}`);
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
  const output = execFileSync(binary, [
    'tx', '--node', url, '--keystore', join(keysDir, 'alice.json'), 'request-redeem', '--shares', '123.25',
  ], { encoding: 'utf8' });
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
      const file = join(outputDir, `${name}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      summary.screenshots.push(file);
    }
  }
  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
  console.log(JSON.stringify({ ok: true, ...summary }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: error.message, console: consoleErrors, ...summary }));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
