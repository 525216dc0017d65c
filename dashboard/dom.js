// @ts-check
// The dashboard's generic DOM pieces, shared by the read-only pages (pages.js) and the wallet
// (wallet.js): building elements, panels, tables, bars and time charts. Nothing here reads the
// API; values go into text nodes only.

import * as fmt from './format.js';

/**
 * What `h` takes as children: nodes, text (numbers and flags shown as text; null, undefined and
 * false skipped), and arrays of them.
 * @typedef {Node | string | number | bigint | boolean | null | undefined | readonly any[]} Child
 */
/**
 * A column of `grid`: `[key, label, raw(row), show(row)]`. `raw` is the API value the cell
 * stands for (its `data-raw`); `show` what is displayed (default: `cell(key, raw)`).
 * @template R
 * @typedef {[string, string, (row: R) => unknown, ((row: R) => Child)?]} Column
 */

/**
 * Builds an element: `h('div', {class: 'x'}, child, 'text', ...)`. An attribute that is
 * undefined, null or false is left out; true sets it empty.
 * @param {string} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attributes]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * @param {string} title
 * @param {...Child} children
 */
export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

/**
 * @param {string} what
 * @param {string} path
 */
export function unavailable(what, path) {
  return h(
    'div',
    { class: 'unavailable', 'data-unavailable': path },
    h('strong', {}, `${what}: not available from this node.`),
    ` It does not serve `,
    h('code', {}, path),
    ` yet; this page fills in once it does.`,
  );
}

/**
 * Formats a field of an answer whose shape this page does not know, by its name.
 * @param {string} key
 * @param {unknown} value
 * @returns {string}
 */
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

/**
 * A table of `rows` with `columns` ([key, label] pairs; the ones present are shown).
 * @template {Record<string, any>} R
 * @param {R[]} rows
 * @param {[string, string][]} columns
 * @param {{id?: string, link?: (row: R) => string, proof?: (row: R) => string}} [options]
 *   the table's `data-table`, a link on each row's first cell, a proof link per row
 */
export function table(rows, columns, { link, proof, id = 'rows' } = {}) {
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

/**
 * A bar of `fraction` (0..1), with an optional marker at `mark`.
 * @param {number} fraction
 * @param {{mark?: number, label?: string}} [options]
 */
export function bar(fraction, { mark, label } = {}) {
  const width = Math.max(0, Math.min(1, fraction)) * 100;
  return h(
    'div',
    { class: 'bar', title: label ?? `${width.toFixed(1)}%` },
    h('span', { class: fraction > (mark ?? 1) ? 'fill over' : 'fill', style: `width:${width}%` }),
    mark !== undefined ? h('i', { class: 'mark', style: `left:${Math.min(1, mark) * 100}%` }) : null,
  );
}

/**
 * Joins history series (each `{points: [{timestamp, value}]}`) on their timestamps for a time
 * chart: `[times, values of the first, values of the second, ...]`, null where one has no
 * point. Values become floats through `toNumber` (for display only).
 */
export function alignHistory(bodies, toNumber) {
  const times = [...new Set(bodies.flatMap((b) => (b?.points ?? []).map((p) => p.timestamp)))].sort((a, b) => a - b);
  return [times, ...bodies.map((b) => {
    const byTime = new Map((b?.points ?? []).map((p) => [p.timestamp, toNumber(p.value)]));
    return times.map((t) => byTime.get(t) ?? null);
  })];
}

/** The last point of a history series, or null. */
export function lastPoint(body) {
  const points = body?.points ?? [];
  return points.length ? points[points.length - 1] : null;
}

export function lineChart(element, series, { labels, colors, yFormat, xLabel = 'block', xTime = false }) {
  if (!window.uPlot || series[0].length < 1) return;
  const width = Math.max(260, element.clientWidth);
  const options = {
    width,
    height: 220,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: xTime },
      // A flat series would get uPlot's default 0..2 range; keep a small band around the data.
      y: { range: (u, min, max) => { const pad = Math.max((max - min) * 0.1, Math.abs(max) * 1e-5, 1e-4); return [min - pad, max + pad]; } },
    },
    axes: [
      // Blocks and rounds are whole numbers: no tick between two of them. Time axes use
      // uPlot's own calendar ticks.
      xTime
        ? { stroke: '#57606a' }
        : { label: xLabel, stroke: '#57606a', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] },
      { stroke: '#57606a', size: 84, values: (u, values) => values.map(yFormat) },
    ],
    series: [{ label: xTime ? 'time' : xLabel }, ...labels.map((label, i) => ({ label, stroke: colors[i], width: 2, spanGaps: true, points: { show: series[0].length < 3 } }))],
  };
  element.replaceChildren();
  new window.uPlot(options, series, element);
}

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
export function grid(rows, columns, { id, rowId = (row) => /** @type {any} */ (row).id, cards = false }) {
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
export function limitBar(fraction, marks, label, { floor = false } = {}) {
  const width = Math.max(0, Math.min(1, fraction)) * 100;
  // A limit is a ceiling (LTV, cap), or with `floor` a minimum to stay above (first-loss).
  const over = marks.length > 0 && (floor ? fraction < marks[0][0] : fraction > marks[marks.length - 1][0]);
  const warn = !floor && marks.length > 0 && fraction > marks[0][0];
  return h('div', { class: 'bar', title: label },
    h('span', { class: over ? 'fill over' : warn ? 'fill warn' : 'fill', style: `width:${width}%` }),
    marks.map(([at, title]) => h('i', { class: 'mark', style: `left:${Math.min(1, at) * 100}%`, title })));
}

/**
 * A definition list of `[key, label, raw, shown]` (shown: default `cell(key, raw)`).
 * @param {[string, string, unknown, Child?][]} entries
 */
export function facts(entries) {
  return h('dl', { class: 'facts' }, entries.flatMap(([key, label, raw, shown]) =>
    [h('dt', {}, label), h('dd', { 'data-key': key, 'data-raw': raw === null || raw === undefined ? null : String(raw) }, shown ?? cell(key, raw))]));
}
