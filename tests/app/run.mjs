// Drives the node's wallet app (`#/wallet`) in headless Chromium (Debian's /usr/bin/chromium)
// with Playwright. The page gets a test wallet injected as an EIP-1193 provider
// (`window.ethereum`) that signs with viem's local account in this process: the private key
// never enters the page, as with a real wallet. The wallet says it is on Ethereum mainnet
// (chain 1), so every signature goes through the signature_chain_id route a real wallet takes.
//
// A depositor goes through mint -> stake -> request -> bid -> round -> claim in the page and
// each balance the page shows equals the API's; a borrower repays a due loan; an action the
// node rejects shows the node's code; a declined signature sends nothing.
//
// Usage: node run.mjs <node url> <output dir> <devnet keys dir>
// Prints one JSON summary line; exits non-zero on the first failed check.

import { chromium } from 'playwright-core';
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
    check(result.status === 'refused' && result.code === dry.error.name, `refused with ${result.code}, node says ${dry.error.name}: ${result.text}`);
    check(result.text.includes(dry.error.name), 'the code is shown in words');
    const shown = await page.$eval('form[data-form="stake"] .result [data-error]', (e) => e.dataset.error);
    check(shown === dry.error.name, `form shows ${shown}`);
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
