// @ts-check
// What a user types, turned into the action their wallet signs (wallet.js signs and submits it,
// and builds the page): the connected account the page fills in, field kinds, the forms, the
// annual rates and sealed-bid commitments computed as the node computes them, and sealed bids'
// salts kept in this browser for the connected account.

import { read } from './api.js';
import * as fmt from './format.js';
import { bytesToHex, encodeAbiParameters, keccak256 } from './vendor/viem.mjs';

/** Where sealed bids' salts are kept: this site's local storage, in this browser only. */
const SEALED_STORAGE_KEY = 'infrafi.sealed-bids';

/** Seconds in a year, as the protocol counts them for rates (SPEC 2). */
const SECONDS_PER_YEAR = 31_536_000n;

/**
 * The connected wallet and what the page keeps about it.
 * @type {{
 *   address: string | null, walletChainId: number | null, infrafiChainId: number | null,
 *   stream: EventSource | null, pending: Map<string, import('./wallet.js').Activity>,
 *   params: import('./api-types').GetAnswer<'/v1/params'>['params'] | null,
 * }}
 */
export const wallet = {
  address: null,
  walletChainId: null,
  infrafiChainId: null,
  stream: null,
  pending: new Map(),
  params: null,
};

// ---- Reading what a user types -----------------------------------------------------------

/** Field kinds: how a form's text becomes the action's JSON value. */
const KINDS = {
  amount: (text, label) => fmt.parseAmount(text, label),
  id: (text, label) => {
    if (!/^\d+$/.test(text)) throw new Error(`${label} must be a whole number`);
    return Number(text);
  },
  ids: (text, label) => text.split(',').map((t) => t.trim()).filter(Boolean).map((t) => KINDS.id(t, label)),
  text: (text, label) => {
    if (!text) throw new Error(`${label} is required`);
    return text;
  },
  json: (text, label) => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`${label} is not JSON: ${error.message}`);
    }
  },
  bytes32: (text, label) => {
    if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw new Error(`${label} must be 0x and 64 hex digits`);
    return text.toLowerCase();
  },
  address: (text, label) => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw new Error(`${label} must be an address (0x and 40 hex digits)`);
    return text;
  },
  /** An annual rate in percent (`12`, `12.5%`, at most two decimals) → its basis points. */
  apr: (text, label) => {
    const match = /^(\d+)(?:\.(\d{1,2}))?%?$/.exec(text.replaceAll(' ', ''));
    if (!match) throw new Error(`${label} must be an annual percentage such as 12 or 12.5 (at most two decimals)`);
    return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  },
  bps: (text, label) => {
    if (!/^\d+$/.test(text)) throw new Error(`${label} must be whole basis points (100 = 1%)`);
    return Number(text);
  },
  days: (text, label) => {
    if (!/^\d+$/.test(text)) throw new Error(`${label} must be a whole number of days`);
    return Number(text) * 86_400;
  },
  model: (text, label) => {
    if (text !== 'amortized' && text !== 'fixed_principal') throw new Error(`${label} is amortized or fixed_principal`);
    return text;
  },
};

/**
 * The per-second rate of an annual rate in basis points, rounded down: the node's
 * `Rate::from_apr_bps` (apr_bps x 10^18 / (10^4 x 31,536,000)), as its JSON string.
 */
export function rateFromAprBps(aprBps) {
  return ((BigInt(aprBps) * fmt.WAD) / (10_000n * SECONDS_PER_YEAR)).toString();
}

/**
 * A sealed bid's commitment, as the node checks it on reveal (`qev::sealed_bid_commitment`):
 * `keccak256(abi.encode(uint64 request_id, uint256 price_wad, bytes32 salt))`, by viem.
 */
export function sealedBidCommitment(requestId, priceWad, salt) {
  return keccak256(encodeAbiParameters(
    [{ type: 'uint64' }, { type: 'uint256' }, { type: 'bytes32' }],
    [BigInt(requestId), BigInt(priceWad), salt],
  ));
}

/** 32 random bytes from the browser's cryptographic generator, as 0x hex. */
function newSalt() {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

// ---- Sealed bids kept in this browser -----------------------------------------------------

/** Every sealed bid this browser keeps, by `chain:address:request`. */
function sealedStore() {
  try {
    return JSON.parse(localStorage.getItem(SEALED_STORAGE_KEY) ?? '{}') ?? {};
  } catch {
    return {};
  }
}

/** The connected address; the forms and tables that need it exist only once connected. */
export function connectedAddress() {
  if (!wallet.address) throw new Error('Connect a wallet first.');
  return wallet.address;
}

function sealedKey(requestId) {
  return `${wallet.infrafiChainId}:${connectedAddress().toLowerCase()}:${requestId}`;
}

/** Keeps (or, with `null`, forgets) the sealed bid of a request of the connected account. */
export function keepSealed(requestId, record) {
  const all = sealedStore();
  if (record === null) delete all[sealedKey(requestId)];
  else all[sealedKey(requestId)] = record;
  localStorage.setItem(SEALED_STORAGE_KEY, JSON.stringify(all));
}

/** The connected account's sealed bids kept here, by request id. */
export function keptSealedBids() {
  const prefix = sealedKey('');
  return Object.entries(sealedStore())
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, record]) => ({ ...record, request_id: Number(key.slice(prefix.length)) }))
    .sort((a, b) => a.request_id - b.request_id);
}

/**
 * The forms: each builds one action from its fields. `kind` says how a field is read;
 * `initial` is its starting text; `for` groups forms by who uses them.
 */
export const FORMS = [
  { type: 'mint_usdai', title: 'Mint USDai', for: 'depositor', note: 'From a credited stablecoin at its oracle price, less the mint fee; the preview shows the USDai out.',
    fields: [['token', 'Stablecoin', 'text', 'USDC'], ['amount', 'Amount', 'amount'], ['min_out', 'Minimum USDai out', 'amount', '0']] },
  { type: 'stake', title: 'Stake USDai for sUSDai', for: 'depositor', note: 'At the deposit price; the preview shows the shares.',
    fields: [['assets', 'USDai', 'amount'], ['min_shares', 'Minimum shares', 'amount', '0']] },
  { type: 'request_redeem', title: 'Request redemption', for: 'depositor', note: 'The preview shows the queue position, the service-date estimate and the bid that would be served in the next round.',
    fields: [['shares', 'sUSDai shares', 'amount']] },
  { type: 'set_bid', title: 'Open bid for priority', for: 'depositor', note: 'Per share, in USDai; 0 withdraws the bid. The escrow is the price times the shares.',
    fields: [['request_id', 'Request', 'id'], ['price_wad', 'Bid per share (USDai)', 'amount']] },
  { type: 'commit_sealed_bid', title: 'Sealed bid for priority', for: 'depositor', build: sealedBidAction,
    note: 'Your bid stays hidden until you reveal it in the reveal window before the next round: the node only sees its commitment and your deposit (which must cover the bid times your shares; a larger deposit hides more).',
    fields: [['request_id', 'Request', 'id'], ['price_wad', 'Bid per share (USDai), hidden', 'amount'], ['deposit', 'Deposit (USDai), public', 'amount']] },
  { type: 'reveal_sealed_bid', title: 'Reveal a sealed bid (salt kept elsewhere)', for: 'depositor', note: 'For a salt you wrote down; bids kept in this browser are revealed from the list above.',
    fields: [['request_id', 'Request', 'id'], ['price_wad', 'Bid per share (USDai)', 'amount'], ['salt', 'Salt', 'bytes32']] },
  { type: 'cancel_redeem', title: 'Cancel a request', for: 'depositor', fields: [['request_id', 'Request', 'id']] },
  { type: 'claim', title: 'Claim', for: 'depositor', note: 'Served USDai, released escrow and vested wait-fees.', fields: [['request_id', 'Request', 'id']] },
  { type: 'list_request', title: 'List a request for sale', for: 'depositor', fields: [['request_id', 'Request', 'id'], ['price', 'Price (USDai)', 'amount']] },
  { type: 'delist_request', title: 'Delist a request', for: 'depositor', fields: [['request_id', 'Request', 'id']] },
  { type: 'buy_request', title: 'Buy a listed request', for: 'depositor', note: 'The purchase is refused if the seller re-prices above your maximum or empties the request below the least it must be worth (its shares at the redemption price, USDai owed or escrowed, unclaimed wait-fees).',
    fields: [['request_id', 'Request', 'id'], ['max_price', 'Most you pay (USDai)', 'amount'], ['min_value', 'Least it must be worth (USDai)', 'amount']] },
  { type: 'repay_loan', title: 'Repay what is due', for: 'borrower', note: 'Pays the installments due now (with grace interest when late), at most the amount you set.',
    fields: [['loan_id', 'Loan', 'id'], ['max_amount', 'Most you pay (USDai)', 'amount']] },
  { type: 'prepay_loan', title: 'Prepay principal', for: 'borrower',
    fields: [['loan_id', 'Loan', 'id'], ['principal', 'Principal (USDai)', 'amount'], ['max_amount', 'Most you pay (USDai)', 'amount']] },
  { type: 'pledge_receipts', title: 'Pledge receipts (margin call)', for: 'borrower', fields: [['loan_id', 'Loan', 'id'], ['receipt_ids', 'Receipts (comma-separated ids)', 'ids']] },
  { type: 'deposit_first_loss', title: 'Deposit first-loss capital', for: 'curator', fields: [['silo_id', 'Silo', 'id'], ['amount', 'USDai', 'amount']] },
  { type: 'withdraw_first_loss', title: 'Withdraw first-loss capital', for: 'curator', fields: [['silo_id', 'Silo', 'id'], ['amount', 'USDai', 'amount']] },
  { type: 'propose_loan', title: 'Propose a loan', for: 'curator', build: proposeLoanAction, wide: true,
    note: 'Choose receipts in the table above (the borrower is their owner). The preview is the node\'s: the loan as proposed and the schedule it would run on if the borrower accepted now.',
    fields: [['silo_id', 'Silo', 'id'], ['borrower', 'Borrower (address)', 'address'], ['receipts', 'Receipts (comma-separated ids)', 'ids'],
      ['senior_amount', 'Senior principal (USDai, from the vault)', 'amount'], ['senior_apr', 'Senior APR (%)', 'apr', '12'],
      ['junior_amount', 'Junior principal (USDai, your first-loss pool)', 'amount', '0'], ['junior_apr', 'Junior APR (%)', 'apr', '18'],
      ['model', 'Payments (amortized or fixed_principal)', 'model', 'amortized'], ['periods', 'Number of payments', 'id', '24'],
      ['interval_secs', 'Days between payments', 'days', '30'], ['grace_period_secs', 'Grace period (days)', 'days', '15'],
      ['grace_apr', 'Grace interest APR (%)', 'apr', '24'], ['origination_fee_bps', 'Origination fee (bps)', 'bps', '100'],
      ['exit_fee_bps', 'Exit fee (bps)', 'bps', '50'], ['expires_in', 'Borrower may accept for (days)', 'days', '14']] },
  { type: 'transfer', title: 'Send', for: 'anyone', note: 'Asset as the node names it: {"stablecoin":"USDC"}, "usdai" or "susdai".',
    fields: [['asset', 'Asset (JSON)', 'json', '"usdai"'], ['to', 'To (address)', 'text'], ['amount', 'Amount', 'amount']] },
  { type: null, title: 'Any action (JSON)', for: 'anyone', note: 'Any action the node accepts, as its JSON (the CLI\'s `tx raw`): propose a loan, sealed bids, role actions.',
    fields: [['action', 'Action JSON', 'json', '{"type":"harvest_base_yield"}']] },
];

/** The form's fields read by their kinds, or throws with the field at fault. */
function fieldsOf(spec, form) {
  const values = {};
  for (const [name, label, kind] of spec.fields) {
    values[name] = KINDS[kind](form.elements[name].value.trim(), label);
  }
  return values;
}

/**
 * What a form asks to sign: `{action}`, with `kept` for a sealed bid (the salt to keep before
 * signing). `purpose` is `preview` or `submit`. Throws with the field at fault.
 */
export async function actionOf(spec, form, purpose) {
  if (spec.type === null) return { action: KINDS.json(form.elements.action.value.trim(), 'Action JSON') };
  const values = fieldsOf(spec, form);
  if (spec.build) return spec.build(values, purpose);
  return { action: { type: spec.type, ...values } };
}

/**
 * A sealed bid: a fresh salt for each submission (a preview uses a throwaway one), the
 * commitment over it, and the record to keep in this browser before the wallet signs.
 */
function sealedBidAction({ request_id: requestId, price_wad: priceWad, deposit }, purpose) {
  if (purpose === 'submit') {
    const kept = keptSealedBids().find((b) => b.request_id === requestId);
    if (kept && kept.state === 'committed') {
      throw new Error(`This browser keeps a sealed bid for request #${requestId} already: reveal or forget it first (a new one would replace its salt).`);
    }
  }
  const salt = newSalt();
  const commitment = sealedBidCommitment(requestId, priceWad, salt);
  return {
    action: { type: 'commit_sealed_bid', request_id: requestId, commitment, deposit },
    kept: { price_wad: priceWad, salt, commitment, deposit, state: 'signing', saved_at: Math.floor(Date.now() / 1000) },
  };
}

/** A loan proposal from the form: rates as the node's per-second rates, expiry from the head's time. */
async function proposeLoanAction(v) {
  const status = await read('/v1/status');
  return {
    action: {
      type: 'propose_loan',
      silo_id: v.silo_id,
      terms: {
        borrower: v.borrower,
        receipts: v.receipts,
        senior: { amount: v.senior_amount, rate: rateFromAprBps(v.senior_apr) },
        junior: { amount: v.junior_amount, rate: rateFromAprBps(v.junior_apr) },
        model: v.model,
        periods: v.periods,
        interval_secs: v.interval_secs,
        grace_period_secs: v.grace_period_secs,
        grace_rate: rateFromAprBps(v.grace_apr),
        origination_fee_bps: v.origination_fee_bps,
        exit_fee_bps: v.exit_fee_bps,
        expires_at: status.timestamp + v.expires_in,
      },
    },
  };
}
