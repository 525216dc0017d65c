// Drives the node's wallet app (`#/wallet`) in headless Chromium (Debian's /usr/bin/chromium)
// with Playwright. The page gets a test wallet injected as an EIP-1193 provider
// (`window.ethereum`) that signs with viem's local account in this process: the private key
// never enters the page, as with a real wallet. The wallet says it is on Ethereum mainnet
// (chain 1), so every signature goes through the signature_chain_id route a real wallet takes.
//
// A depositor goes through mint -> stake -> request -> bid -> round -> claim in the page and
// each balance the page shows equals the API's; a borrower repays a due loan; an action the
// node rejects shows the node's code; a declined signature sends nothing. The depositor also
// commits a sealed bid (the page computes the commitment with viem's keccak-256 and keeps the
// salt in the browser's storage under a visible warning) and reveals it in the reveal window,
// then lists the request; a second depositor buys it from the listings table; a curator
// proposes a loan from receipts ticked in a table, with the schedule the node's dry run
// previews.
//
// Usage: node run.mjs <node url> <output dir> <devnet keys dir>
// Prints one JSON summary line; exits non-zero on the first failed check.

import { chromium } from 'playwright-core';
import { encodeAbiParameters, keccak256 } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fmt from '../../dashboard/format.js';

const [url, outputDir, keysDir] = process.argv.slice(2);
if (!url || !outputDir || !keysDir) {
  console.error('usage: node run.mjs <node url> <output dir> <devnet keys dir>');
  process.exit(2);
}
mkdirSync(outputDir, { recursive: true });

/** The wallet's chain: not the infrafi chain, as for any real user. */
const WALLET_CHAIN_ID = 1;
const summary = { ok: false, steps: [], balances_checked: 0, screenshots: [] };

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function api(path, body) {
  const response = await fetch(url + path, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  check(response.ok, `${path} answered ${response.status}`);
  return response.json();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function account(name) {
  const file = JSON.parse(readFileSync(join(keysDir, `${name}.json`), 'utf8'));
  return privateKeyToAccount(file.private_key);
}

// ---- The test wallet ---------------------------------------------------------------------

const wallet = { account: account('erin'), declineNext: false, signed: 0, authorized: false };

/** Integers of typed data as bigint, as viem takes them (the node serves decimal strings). */
function typedValues(types, type, value) {
  if (type.endsWith('[]')) return value.map((v) => typedValues(types, type.slice(0, -2), v));
  if (types[type]) {
    return Object.fromEntries(types[type].map((field) => [field.name, typedValues(types, field.type, value[field.name])]));
  }
  if (/^u?int\d*$/.test(type)) return BigInt(value);
  return value;
}

/** The provider's answer to one EIP-1193 request from the page. */
async function walletRequest(method, params) {
  switch (method) {
    case 'eth_requestAccounts':
      wallet.authorized = true;
      return { result: [wallet.account.address] };
    case 'eth_accounts':
      // As a real wallet: no account until the site has asked for one.
      return { result: wallet.authorized ? [wallet.account.address] : [] };
    case 'eth_chainId':
      return { result: `0x${WALLET_CHAIN_ID.toString(16)}` };
    case 'eth_signTypedData_v4': {
      const [address, json] = params;
      if (address.toLowerCase() !== wallet.account.address.toLowerCase()) {
        return { error: { code: 4100, message: `not this wallet's account: ${address}` } };
      }
      if (wallet.declineNext) {
        wallet.declineNext = false;
        return { error: { code: 4001, message: 'User rejected the request.' } };
      }
      const typed = JSON.parse(json);
      // What a wallet checks before it signs: its own chain in the domain.
      if (Number(typed.domain.chainId) !== WALLET_CHAIN_ID) {
        return { error: { code: 4901, message: `typed data for chain ${typed.domain.chainId}, wallet on ${WALLET_CHAIN_ID}` } };
      }
      const { EIP712Domain, ...types } = typed.types;
      const signature = await wallet.account.signTypedData({
        domain: { ...typed.domain, chainId: Number(typed.domain.chainId) },
        types,
        primaryType: typed.primaryType,
        message: typedValues(types, typed.primaryType, typed.message),
      });
      wallet.signed += 1;
      return { result: signature };
    }
    default:
      return { error: { code: 4200, message: `unsupported method ${method}` } };
  }
}

/** Installed in the page before its scripts: `window.ethereum` forwarding to `walletRequest`. */
function injectProvider() {
  const listeners = {};
  window.ethereum = {
    isInfrafiTestWallet: true,
    async request({ method, params }) {
      const answer = await window.__testWallet(method, params ?? []);
      if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
      return answer.result;
    },
    on(event, listener) {
      (listeners[event] ??= []).push(listener);
    },
    removeListener(event, listener) {
      listeners[event] = (listeners[event] ?? []).filter((l) => l !== listener);
    },
    __emit(event, value) {
      for (const listener of listeners[event] ?? []) listener(value);
    },
  };
}

// ---- The page ----------------------------------------------------------------------------

const userDataDir = mkdtempSync(join(tmpdir(), 'infrafi-app-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1366, height: 900 },
});
const pageErrors = [];
await context.exposeFunction('__testWallet', walletRequest);
await context.addInitScript(injectProvider);
const page = context.pages()[0] ?? (await context.newPage());
page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
page.on('console', (message) => {
  // The browser logs the 422 of the action the test makes the node refuse; nothing else.
  if (message.type() === 'error' && !message.text().includes('status of 422')) pageErrors.push(`console: ${message.text()}`);
});

async function step(name, run) {
  const started = Date.now();
  await run();
  summary.steps.push({ name, ms: Date.now() - started });
}

/** Fills a form's fields and presses one of its buttons. */
async function fill(form, values) {
  for (const [name, value] of Object.entries(values)) {
    await page.fill(`form[data-form="${form}"] [name="${name}"]`, String(value));
  }
}

/**
 * Signs and submits the form's action and waits for its activity line to settle; returns
 * the line's status, code and text.
 */
async function submit(form, values, { settled = ['applied', 'rejected', 'refused', 'declined'] } = {}) {
  await fill(form, values);
  const before = await page.$$eval('#wallet-activity > li', (all) => all.length);
  await page.click(`form[data-form="${form}"] button[data-do="submit"]`);
  await page.waitForFunction(
    ([count, states]) => {
      const items = document.querySelectorAll('#wallet-activity > li');
      return items.length > count && states.includes(items[0].dataset.status);
    },
    [before, settled],
    { timeout: 30000 },
  );
  return page.$eval('#wallet-activity > li', (li) => ({
    status: li.dataset.status, code: li.dataset.code ?? null, tx: li.dataset.tx ?? null, text: li.textContent,
  }));
}

/** The page's figures for the connected account equal the API's at the same height. */
async function checkBalances(label) {
  // Wait until the page has read the account at or after the API's height.
  const status = await api('/v1/status');
  await page.waitForFunction((height) => Number(document.querySelector('#wallet-account [data-height]')?.dataset.height) >= height, status.height, { timeout: 20000 });
  const height = Number(await page.$eval('#wallet-account [data-height]', (e) => e.dataset.height));
  const shown = await page.$$eval('table[data-table="wallet-balances"] tbody tr', (rows) =>
    rows.map((row) => [row.dataset.row, row.querySelector('[data-key="amount"]').dataset.raw]));
  const accountNow = await api(`/v1/accounts/${wallet.account.address}`);
  if (accountNow.height !== height) {
    // A block landed between the two reads; the page follows it on the next event.
    await sleep(300);
    return checkBalances(label);
  }
  const expected = accountNow.balances.map((b) => [b.asset, b.amount]);
  check(JSON.stringify(shown) === JSON.stringify(expected), `${label}: page shows ${JSON.stringify(shown)}, API has ${JSON.stringify(expected)} at #${height}`);
  const points = await page.$eval('[data-figure="points"]', (e) => e.dataset.raw);
  check(points === accountNow.points, `${label}: points ${points} vs ${accountNow.points}`);
  summary.balances_checked += shown.length;
  return accountNow;
}

function balance(accountNow, asset) {
  return BigInt(accountNow.balances.find((b) => b.asset === asset)?.amount ?? '0');
}

async function screenshot(name) {
  const path = join(outputDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  summary.screenshots.push(path);
}

try {
  await page.goto(`${url}/#/wallet`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('main[data-page="wallet"] [data-wallet="disconnected"]', { timeout: 20000 });

  await step('connect', async () => {
    await page.click('#connect');
    await page.waitForSelector('[data-wallet="connected"]', { timeout: 20000 });
    const shownAddress = await page.$eval('#wallet-address', (e) => e.textContent);
    check(shownAddress.toLowerCase() === wallet.account.address.toLowerCase(), `address ${shownAddress}`);
    const chain = await page.$eval('#wallet-chain', (e) => [Number(e.dataset.walletChain), Number(e.dataset.infrafiChain)]);
    const status = await api('/v1/status');
    check(chain[0] === WALLET_CHAIN_ID && chain[1] === status.chain_id, `chains shown ${chain}`);
    const roles = await page.$eval('[data-figure="roles"]', (e) => e.dataset.raw);
    const apiAccount = await checkBalances('connected');
    check(roles === apiAccount.roles.join(','), `roles ${roles}`);
    await screenshot('wallet-connected');
  });

  let usdai = 0n;
  await step('mint', async () => {
    const before = await checkBalances('before mint');
    // The preview is the node's dry run: it names the USDai the mint would pay out.
    await fill('mint_usdai', { token: 'USDC', amount: '1000', min_out: '0' });
    await page.click('form[data-form="mint_usdai"] button[data-do="preview"]');
    await page.waitForSelector('form[data-form="mint_usdai"] .result .ok', { timeout: 15000 });
    const result = await submit('mint_usdai', {});
    check(result.status === 'applied', `mint: ${result.text}`);
    const receipt = await api(`/v1/tx/${result.tx}`);
    check(receipt.status === 'applied', `mint receipt ${receipt.status}`);
    const after = await checkBalances('after mint');
    usdai = balance(after, 'USDai');
    check(usdai > balance(before, 'USDai'), 'mint raised the USDai balance');
    check(balance(before, 'USDC') - balance(after, 'USDC') === 1000n * fmt.WAD, 'mint took 1,000 USDC');
  });

  await step('stake', async () => {
    const before = await checkBalances('before stake');
    const result = await submit('stake', { assets: '500', min_shares: '0' });
    check(result.status === 'applied', `stake: ${result.text}`);
    const after = await checkBalances('after stake');
    check(balance(before, 'USDai') - balance(after, 'USDai') === 500n * fmt.WAD, 'stake took 500 USDai');
    check(balance(after, 'sUSDai') > balance(before, 'sUSDai'), 'stake paid shares');
  });

  let requestId = null;
  await step('request', async () => {
    const before = await api(`/v1/accounts/${wallet.account.address}`);
    await fill('request_redeem', { shares: '100' });
    await page.click('form[data-form="request_redeem"] button[data-do="preview"]');
    await page.waitForSelector('form[data-form="request_redeem"] [data-preview="request"]', { timeout: 15000 });
    const result = await submit('request_redeem', {});
    check(result.status === 'applied', `request: ${result.text}`);
    const after = await checkBalances('after request');
    const added = after.redemption_requests.filter((id) => !before.redemption_requests.includes(id));
    check(added.length === 1, `one new request: ${added}`);
    requestId = added[0];
    await page.waitForSelector(`table[data-table="wallet-requests"] tr[data-row="${requestId}"]`, { timeout: 15000 });
  });

  await step('bid', async () => {
    await page.click(`button[data-use="request_id:${requestId}"]`);
    const result = await submit('set_bid', { price_wad: '0.001' });
    check(result.status === 'applied', `bid: ${result.text}`);
    const detail = await api(`/v1/queue/${requestId}`);
    check(detail.qev.bid_price === fmt.parseAmount('0.001'), `bid on the request: ${detail.qev.bid_price}`);
    await page.waitForFunction((id) => document.querySelector(`table[data-table="wallet-requests"] tr[data-row="${id}"] [data-key="bid_price"]`)?.dataset.raw === '1000000000000000', requestId, { timeout: 15000 });
    await screenshot('wallet-bid');
  });

  await step('round', async () => {
    // The keeper runs the servicing round once it is due; move the devnet's clock past it.
    const deadline = Date.now() + 60000;
    for (;;) {
      const detail = await api(`/v1/queue/${requestId}`);
      if (BigInt(detail.request.claimable) > 0n) break;
      check(Date.now() < deadline, `request ${requestId} not served: ${JSON.stringify(detail.request)}`);
      await api('/v1/devnet/advance-time', { seconds: 86_400 });
      await sleep(1500);
    }
    await page.waitForFunction((id) => {
      const cell = document.querySelector(`table[data-table="wallet-requests"] tr[data-row="${id}"] [data-key="claimable"]`);
      return cell && cell.dataset.raw !== '0';
    }, requestId, { timeout: 20000 });
  });

  await step('claim', async () => {
    const before = await checkBalances('before claim');
    const detail = await api(`/v1/queue/${requestId}`);
    const result = await submit('claim', { request_id: requestId });
    check(result.status === 'applied', `claim: ${result.text}`);
    const after = await checkBalances('after claim');
    check(balance(after, 'USDai') - balance(before, 'USDai') >= BigInt(detail.request.claimable), 'claim paid at least the claimable USDai');
    await screenshot('wallet-claimed');
  });

  await step('rejected action shows the node code', async () => {
    const accountNow = await api(`/v1/accounts/${wallet.account.address}`);
    const tooMuch = fmt.amount((balance(accountNow, 'USDai') + 1000n * fmt.WAD).toString(), 0).replaceAll(',', '');
    const dry = await api('/v1/dry-run', { sender: wallet.account.address, action: { type: 'stake', assets: fmt.parseAmount(tooMuch), min_shares: '0' } });
    check(dry.status === 'rejected', 'the dry run rejects staking more than the balance');
    const result = await submit('stake', { assets: tooMuch, min_shares: '0' });
    check(typeof dry.error.code === 'string' && Number.isInteger(dry.error.number), `a dry run's error is {code: name, number}: ${JSON.stringify(dry.error)}`);
    check(result.status === 'refused' && result.code === dry.error.code, `refused with ${result.code}, node says ${dry.error.code}: ${result.text}`);
    check(result.text.includes(dry.error.code) && result.text.includes(`number ${dry.error.number}`), `the code is shown in words with its number: ${result.text}`);
    const shown = await page.$eval('form[data-form="stake"] .result [data-error]', (e) => e.dataset.error);
    check(shown === dry.error.code, `form shows ${shown}`);
    summary.rejected_code = result.code;
  });

  await step('declined signature sends nothing', async () => {
    const before = await api(`/v1/accounts/${wallet.account.address}`);
    wallet.declineNext = true;
    const result = await submit('stake', { assets: '1', min_shares: '0' });
    check(result.status === 'declined', `declined: ${result.text}`);
    const after = await api(`/v1/accounts/${wallet.account.address}`);
    check(after.next_nonce === before.next_nonce, 'no transaction was sent');
  });

  /** Points the test wallet at another devnet key and tells the page, as a wallet does. */
  async function switchTo(name) {
    wallet.account = account(name);
    await page.evaluate((address) => window.ethereum.__emit('accountsChanged', [address]), wallet.account.address);
    await page.waitForFunction((address) => document.querySelector('#wallet-account [data-address]')?.dataset.address.toLowerCase() === address.toLowerCase(), wallet.account.address, { timeout: 15000 });
    await checkBalances(`switched to ${name}`);
  }

  /** The sealed bids the page keeps in the browser's local storage, by key. */
  const keptSealedBids = async () => JSON.parse(await page.evaluate(() => localStorage.getItem('infrafi.sealed-bids') ?? '{}'));

  let sealedRequest = null;
  await step('sealed bid committed and revealed in the window', async () => {
    const before = await api(`/v1/accounts/${wallet.account.address}`);
    const requested = await submit('request_redeem', { shares: '50' });
    check(requested.status === 'applied', `request: ${requested.text}`);
    const after = await api(`/v1/accounts/${wallet.account.address}`);
    sealedRequest = after.redemption_requests.find((id) => !before.redemption_requests.includes(id));
    check(sealedRequest !== undefined, 'a new request');
    // The warning says where the salt is kept and what an unrevealed bid costs.
    const { params } = await api('/v1/params');
    const warning = await page.$eval('form[data-form="commit_sealed_bid"] [data-warning="sealed-salt"]', (e) => ({ text: e.textContent, visible: e.offsetHeight > 0 }));
    check(warning.visible && warning.text.includes('only in this browser') && warning.text.includes(fmt.bps(params.unrevealed_penalty_bps)), `warning: ${warning.text}`);
    const price = fmt.parseAmount('0.002');
    const committed = await submit('commit_sealed_bid', { request_id: sealedRequest, price_wad: '0.002', deposit: '1' });
    check(committed.status === 'applied', `commit: ${committed.text}`);
    // The salt is in the browser's storage; the commitment over it, computed here with viem,
    // is what the page sent and what the node holds.
    const chain = (await api('/v1/status')).chain_id;
    const kept = (await keptSealedBids())[`${chain}:${wallet.account.address.toLowerCase()}:${sealedRequest}`];
    check(kept && kept.state === 'committed' && kept.price_wad === price && /^0x[0-9a-f]{64}$/.test(kept.salt), `kept: ${JSON.stringify(kept)}`);
    const commitment = keccak256(encodeAbiParameters([{ type: 'uint64' }, { type: 'uint256' }, { type: 'bytes32' }], [BigInt(sealedRequest), BigInt(price), kept.salt]));
    let detail = await api(`/v1/queue/${sealedRequest}`);
    check(detail.qev.sealed_bid?.commitment === commitment && kept.commitment === commitment, `commitment: node ${detail.qev.sealed_bid?.commitment}, page ${kept.commitment}, viem ${commitment}`);
    check(detail.qev.bid_price === '0', 'the bid stays hidden until revealed');
    summary.sealed_commitment = commitment;
    await page.waitForSelector(`table[data-table="wallet-sealed"] tr[data-row="${sealedRequest}"]`, { timeout: 15000 });
    await screenshot('wallet-sealed-committed');
    // Into the reveal window: it opens reveal_window_secs before the next round may run.
    if (!detail.qev.sealed_bid.reveal_window_open) {
      const status = await api('/v1/status');
      await api('/v1/devnet/advance-time', { seconds: detail.qev.sealed_bid.reveal_window_opens_at - status.timestamp + 1 });
      for (let attempt = 0; !detail.qev.sealed_bid?.reveal_window_open; attempt++) {
        check(attempt < 60 && detail.qev.sealed_bid, `the reveal window did not open: ${JSON.stringify(detail.qev)}`);
        await sleep(250);
        detail = await api(`/v1/queue/${sealedRequest}`);
      }
    }
    await page.waitForSelector(`table[data-table="wallet-sealed"] tr[data-row="${sealedRequest}"][data-state="open"]`, { timeout: 15000 });
    const beforeReveal = await api(`/v1/accounts/${wallet.account.address}`);
    const count = await page.$$eval('#wallet-activity > li', (all) => all.length);
    await page.click(`table[data-table="wallet-sealed"] tr[data-row="${sealedRequest}"] button[data-do="reveal"]`);
    await page.waitForFunction((n) => {
      const items = document.querySelectorAll('#wallet-activity > li');
      return items.length > n && ['applied', 'rejected', 'refused', 'declined'].includes(items[0].dataset.status);
    }, count, { timeout: 30000 });
    const revealed = await page.$eval('#wallet-activity > li', (li) => ({ status: li.dataset.status, text: li.textContent }));
    check(revealed.status === 'applied', `reveal: ${revealed.text}`);
    detail = await api(`/v1/queue/${sealedRequest}`);
    check(detail.qev.bid_price === price && detail.qev.sealed_bid === null, `revealed bid: ${JSON.stringify(detail.qev)}`);
    const afterReveal = await checkBalances('after reveal');
    check(balance(afterReveal, 'USDai') > balance(beforeReveal, 'USDai'), 'the deposit less the escrow came back');
    const left = (await keptSealedBids())[`${chain}:${wallet.account.address.toLowerCase()}:${sealedRequest}`];
    check(left === undefined, 'the salt is forgotten once revealed');
  });

  await step('listing bought from the table', async () => {
    const listed = await submit('list_request', { request_id: sealedRequest, price: '40' });
    check(listed.status === 'applied', `list: ${listed.text}`);
    const seller = wallet.account.address;
    await switchTo('bob');
    const row = `table[data-table="wallet-listings"] tr[data-row="${sealedRequest}"]`;
    await page.waitForSelector(row, { timeout: 15000 });
    const { listings } = await api('/v1/queue/listings?limit=100');
    const listing = listings.find((l) => l.request.id === sealedRequest);
    const shownPrice = await page.$eval(`${row} [data-key="price"]`, (e) => e.dataset.raw);
    check(listing && shownPrice === listing.price && listing.price === fmt.parseAmount('40'), `listing price: page ${shownPrice}, API ${listing?.price}`);
    await page.click(`${row} button[data-do="preview"]`);
    await page.waitForSelector(`${row} .result .ok`, { timeout: 15000 });
    const before = await checkBalances('buyer before');
    const count = await page.$$eval('#wallet-activity > li', (all) => all.length);
    await page.click(`${row} button[data-do="buy"]`);
    await page.waitForFunction((n) => {
      const items = document.querySelectorAll('#wallet-activity > li');
      return items.length > n && ['applied', 'rejected', 'refused', 'declined'].includes(items[0].dataset.status);
    }, count, { timeout: 30000 });
    const bought = await page.$eval('#wallet-activity > li', (li) => ({ status: li.dataset.status, text: li.textContent }));
    check(bought.status === 'applied', `buy: ${bought.text}`);
    const detail = await api(`/v1/queue/${sealedRequest}`);
    check(detail.request.owner.toLowerCase() === wallet.account.address.toLowerCase() && detail.qev.listing_price === null, `bought request: ${JSON.stringify(detail.request)} from ${seller}`);
    const after = await checkBalances('buyer after');
    check(balance(before, 'USDai') - balance(after, 'USDai') === 40n * fmt.WAD, 'the buyer paid the asking price');
    await page.waitForSelector(`table[data-table="wallet-requests"] tr[data-row="${sealedRequest}"]`, { timeout: 15000 });
  });

  await step('curator proposes a loan from chosen receipts', async () => {
    await switchTo('northwind');
    const { silos } = await api('/v1/silos?limit=100');
    const silo = silos.find((s) => s.curator.toLowerCase() === wallet.account.address.toLowerCase() && !s.frozen);
    check(silo, 'northwind curates a silo');
    await page.waitForSelector('table[data-table="wallet-receipts"] tbody tr', { timeout: 20000 });
    // A free receipt the silo may lend against, with its value for LTV.
    const rows = await page.$$eval('table[data-table="wallet-receipts"] tbody tr', (all) => all.map((r) => ({
      id: Number(r.dataset.row), class: r.querySelector('[data-key="class"]').textContent,
      owner: r.querySelector('input').dataset.owner, value: r.querySelector('[data-key="value_for_ltv"]').dataset.raw,
      eligible: r.querySelector('[data-key="eligible"]').textContent === 'yes',
    })));
    const chosen = rows.find((r) => r.eligible && silo.eligible_classes.includes(r.class) && BigInt(r.value) > 0n);
    check(chosen, `a free receipt of ${silo.eligible_classes}: ${JSON.stringify(rows)}`);
    // The value for LTV depreciates with block time: the page's figure equals the node's once
    // both are read at the same block (the page re-reads every block), so wait for that.
    let receipt;
    for (let attempt = 0; ; attempt++) {
      receipt = await api(`/v1/receipts/${chosen.id}`);
      const shown = await page.$eval(`table[data-table="wallet-receipts"] tr[data-row="${chosen.id}"] [data-key="value_for_ltv"]`, (e) => e.dataset.raw);
      if (shown === receipt.value_for_ltv) break;
      check(attempt < 60, `receipt ${chosen.id}: the page shows value ${shown}, the node ${receipt.value_for_ltv}`);
      await sleep(200);
    }
    check(['issued', 'released'].includes(receipt.receipt.status), `receipt ${chosen.id}: ${JSON.stringify(receipt.receipt)}`);
    await page.check(`table[data-table="wallet-receipts"] tr[data-row="${chosen.id}"] input[type="checkbox"]`);
    const filled = await page.$eval('form[data-form="propose_loan"]', (f) => [f.elements.receipts.value, f.elements.borrower.value]);
    check(filled[0] === String(chosen.id) && filled[1].toLowerCase() === receipt.receipt.owner.toLowerCase(), `the form took the receipt and its owner: ${filled}`);
    // A third of the collateral's value as senior, a twentieth as junior.
    const senior = (BigInt(chosen.value) / 3n / fmt.WAD).toString();
    const junior = (BigInt(chosen.value) / 20n / fmt.WAD).toString();
    await fill('propose_loan', { silo_id: silo.id, senior_amount: senior, senior_apr: '12', junior_amount: junior, junior_apr: '18', periods: '24' });
    const dryRun = page.waitForRequest((r) => r.url().endsWith('/v1/dry-run'));
    await page.click('form[data-form="propose_loan"] button[data-do="preview"]');
    const sent = (await dryRun).postDataJSON();
    await page.waitForSelector('form[data-form="propose_loan"] table[data-preview="schedule"] tbody tr', { timeout: 15000 });
    const previewRows = await page.$$eval('form[data-form="propose_loan"] table[data-preview="schedule"] tbody tr', (all) => all.map((r) => ({
      payment: r.querySelector('[data-key="payment"]').dataset.raw, closing_balance: r.querySelector('[data-key="closing_balance"]').dataset.raw,
    })));
    // The schedule shown is the node's: the same dry run through the API gives the same payments.
    const node = await api('/v1/dry-run', sent);
    check(node.status === 'applied', `dry run: ${JSON.stringify(node.error)}`);
    const proposed = node.loans.find((l) => l.loan.status === 'proposed');
    // 12% and 18% become the per-second rates the node's Rate::from_apr_bps gives (rounded
    // down, so they read back as 11.99% and 17.99%): the rates of the devnet's own loans,
    // proposed at from_apr_bps(1200) and (1800).
    const devnetLoan = (await api('/v1/loans/0')).loan;
    check(proposed && proposed.loan.senior.apr_bps === devnetLoan.senior.apr_bps && proposed.loan.junior.apr_bps === devnetLoan.junior.apr_bps, `proposed rates: ${JSON.stringify(proposed?.loan)} vs the devnet's ${JSON.stringify(devnetLoan)}`);
    check(sent.action.terms.senior.rate === ((1200n * fmt.WAD) / (10_000n * 31_536_000n)).toString(), `senior rate sent: ${sent.action.terms.senior.rate}`);
    const expected = proposed.proposed_schedule.map((p) => ({ payment: p.payment, closing_balance: p.closing_balance }));
    check(previewRows.length === 24 && JSON.stringify(previewRows) === JSON.stringify(expected), `preview rows ${previewRows.length}: ${JSON.stringify(previewRows.slice(0, 2))} vs ${JSON.stringify(expected.slice(0, 2))}`);
    await screenshot('wallet-curator-preview');
    const result = await submit('propose_loan', {});
    check(result.status === 'applied', `propose: ${result.text}`);
    const receiptOfTx = await api(`/v1/tx/${result.tx}`);
    const event = receiptOfTx.events.find((e) => e.kind === 'loan_proposed');
    check(event, `loan_proposed in ${JSON.stringify(receiptOfTx.events)}`);
    const loan = await api(`/v1/loans/${event.loan_id}`);
    check(loan.loan.status === 'proposed' && JSON.stringify(loan.loan.receipts) === JSON.stringify([chosen.id]), `loan: ${JSON.stringify(loan.loan)}`);
    check(loan.loan.borrower.toLowerCase() === receipt.receipt.owner.toLowerCase(), 'the receipt owner borrows');
    check(JSON.stringify(loan.proposed_schedule.map((p) => p.payment)) === JSON.stringify(expected.map((p) => p.payment)), 'the proposal runs on the previewed payments');
    summary.proposed_loan = event.loan_id;
  });

  await step('borrower repays a due loan', async () => {
    // A devnet borrower with a payment due now (the devnet leaves one loan late; the days moved
    // for the round may have defaulted it, so any active loan with a payment due will do).
    const borrowers = Object.fromEntries(['op_atlas', 'op_boreal', 'op_cirrus', 'op_delta']
      .map((name) => account(name)).map((a) => [a.address.toLowerCase(), a]));
    let due = null;
    for (let attempt = 0; attempt < 12 && !due; attempt += 1) {
      const { loans } = await api('/v1/loans?status=active&limit=50');
      for (const loan of loans) {
        const detail = await api(`/v1/loans/${loan.id}`);
        const total = BigInt(detail.schedule?.payment_due_now.total ?? '0');
        if (total > 0n && !detail.schedule.default_due && borrowers[loan.borrower.toLowerCase()]) {
          due = detail;
          break;
        }
      }
      if (!due) await api('/v1/devnet/advance-time', { seconds: 5 * 86_400 });
    }
    check(due, 'a devnet loan has a payment due');
    const loanId = due.loan.id;
    summary.repaid_loan = loanId;
    wallet.account = borrowers[due.loan.borrower.toLowerCase()];
    await page.evaluate((address) => window.ethereum.__emit('accountsChanged', [address]), wallet.account.address);
    await page.waitForFunction((address) => document.querySelector('[data-wallet="connected"]')?.dataset.address === address, wallet.account.address, { timeout: 15000 });
    await page.waitForSelector(`table[data-table="wallet-loans"] tr[data-row="${loanId}"]`, { timeout: 20000 });
    const dueShown = await page.$eval(`table[data-table="wallet-loans"] tr[data-row="${loanId}"] [data-key="due_now"]`, (e) => e.dataset.raw);
    const detail = await api(`/v1/loans/${loanId}`);
    check(dueShown !== null && dueShown === detail.schedule.payment_due_now.total, `loan ${loanId} shows the payment due: ${dueShown}`);
    const before = await checkBalances('borrower before repay');
    await page.click(`button[data-use="loan_id:${loanId}"]`);
    const most = fmt.amount((BigInt(detail.schedule.payment_due_now.total) * 2n).toString(), 0).replaceAll(',', '');
    const result = await submit('repay_loan', { max_amount: most });
    check(result.status === 'applied', `repay: ${result.text}`);
    const after = await checkBalances('borrower after repay');
    check(balance(before, 'USDai') > balance(after, 'USDai'), 'the repayment was paid in USDai');
    const repaid = await api(`/v1/loans/${loanId}`);
    check(repaid.schedule === null || repaid.schedule.payments_missed === 0, `nothing missed after the repayment: ${JSON.stringify(repaid.schedule?.payment_due_now)}`);
    await screenshot('wallet-borrower');
  });

  check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
  summary.ok = true;
  summary.signatures = wallet.signed;
  console.log(JSON.stringify(summary));
} catch (error) {
  await screenshot('wallet-failure').catch(() => {});
  console.log(JSON.stringify({ ...summary, error: error.message, page_errors: pageErrors }));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
