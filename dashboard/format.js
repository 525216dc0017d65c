// Formatting of API values, shared with the browser tests (tests/dashboard) so that what a
// test expects is what the page shows. Amounts are strings of base units (10^-18): they are
// handled as BigInt, never as floats, until the last rounding for display.

export const WAD = 10n ** 18n;

/** `"1234500000000000000000"` → `"1,234.50"` (rounded half up to `decimals`). */
export function amount(baseUnits, decimals = 2) {
  if (baseUnits === null || baseUnits === undefined || baseUnits === '') return '—';
  let value = BigInt(baseUnits);
  const negative = value < 0n;
  if (negative) value = -value;
  const scale = 10n ** BigInt(18 - decimals);
  const rounded = (value + scale / 2n) / scale;
  const unit = 10n ** BigInt(decimals);
  const whole = (rounded / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = decimals > 0 ? '.' + (rounded % unit).toString().padStart(decimals, '0') : '';
  return (negative ? '-' : '') + whole + fraction;
}

/** A WAD price (`"1000000000000000000"`) → `"1.000000"`. */
export function price(wad) {
  return amount(wad, 6);
}

/** `numerator / denominator` (both base-unit strings) as a percentage with 2 decimals. */
export function ratio(numerator, denominator) {
  const d = BigInt(denominator);
  if (d === 0n) return '—';
  const bps100 = (BigInt(numerator) * 1000000n) / d; // hundredths of a basis point
  return (Number(bps100) / 10000).toFixed(2) + '%';
}

/** Basis points (`"450"`) → `"4.50%"`. */
export function bps(value) {
  return (Number(value) / 100).toFixed(2) + '%';
}

/** A WAD number to a float, for charts and rates only. */
export function toFloat(wad) {
  const value = BigInt(wad);
  return Number(value / 10n ** 9n) / 1e9;
}

/** A 0x hash or address shortened for tables: `0x1a2b…9f0e`. */
export function short(hex) {
  if (typeof hex !== 'string' || hex.length < 14) return String(hex ?? '—');
  return `${hex.slice(0, 6)}…${hex.slice(-4)}`;
}

/** Unix seconds → `2025-01-31 14:05 UTC`. */
export function time(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** Unix seconds → `2025-01-31` (UTC). */
export function date(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 10);
}

/** Seconds → `3d 4h`, `5h 10m`, `42s`. */
export function duration(seconds) {
  let s = Math.max(0, Math.round(Number(seconds)));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s - m * 60}s`;
  return `${s}s`;
}

/**
 * A decimal a user typed (`"1,250.5"`) → base units (`"1250500000000000000000"`), exactly:
 * digits only, at most 18 decimals, no sign or exponent. Throws an Error naming `label`.
 */
export function parseAmount(text, label = 'amount') {
  const clean = String(text).trim().replaceAll(',', '').replaceAll('_', '');
  const match = /^(\d+)(?:\.(\d*))?$/.exec(clean);
  if (!match) throw new Error(`${label} must be a decimal number such as 1250.5`);
  const fraction = match[2] ?? '';
  if (fraction.length > 18) throw new Error(`${label} has more than 18 decimals`);
  return (BigInt(match[1]) * WAD + BigInt(fraction.padEnd(18, '0') || '0')).toString();
}

/** A u64 as postcard encodes it (a LEB128 varint), in hex: the key bytes of a table leaf. */
export function postcardU64(value) {
  let n = BigInt(value);
  let hex = '';
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    hex += byte.toString(16).padStart(2, '0');
  } while (n > 0n);
  return hex;
}
