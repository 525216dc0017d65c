// @ts-check
// @ts-check
// The dashboard's and wallet app's shell: hash routing, the event stream, and live refresh. A page is re-read
// when a committed event arrives (`/v1/events`, server-sent) and when the head moves, and is
// swapped in one step, so figures follow the chain without a reload.

import { read } from './api.js';
import * as credit from './credit.js';
import * as pages from './pages.js';
import { short } from './format.js';
import * as wallet from './wallet.js';

/**
 * An element the page's HTML has (`index.html`): a missing one is a broken page, said at once.
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** @type {import('./pages.js').Context} */
const context = {
  height: null,
  timestamp: null,
  events: [],
};

/**
 * The page the location's hash names, and how to build it.
 * @returns {[string, () => Promise<import('./pages.js').Page>]}
 */
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [name = 'overview', id] = parts;
  switch (name) {
    case 'loans': return id === undefined ? ['loans', () => credit.loans(context)] : ['loans', () => credit.loan(context, id)];
    case 'silos': return ['silos', () => credit.silos(context)];
    case 'receipts': return ['receipts', () => credit.receipts(context, id)];
    case 'queue': return ['queue', () => pages.queue(context)];
    case 'points': return ['points', () => pages.points(context)];
    case 'wallet': return ['wallet', () => wallet.page()];
    default: return ['overview', () => pages.overview(context)];
  }
}

let rendering = null;
let again = false;

/** Reads and swaps in the current page; calls during a render coalesce into one more. */
async function render() {
  if (rendering) {
    again = true;
    return rendering;
  }
  rendering = (async () => {
    const [name, load] = route();
    for (const link of document.querySelectorAll('#nav a')) {
      if (!(link instanceof HTMLElement)) continue;
      link.classList.toggle('active', link.dataset.page === name);
    }
    const main = byId('page');
    try {
      const { node, after } = await load();
      const scroll = window.scrollY;
      // The wallet page is one element for its life (forms keep what was typed): not swapped.
      if (main.firstChild !== node) main.replaceChildren(node);
      main.dataset.page = name;
      main.dataset.height = String(context.height);
      window.scrollTo(0, scroll);
      after?.();
    } catch (error) {
      main.replaceChildren(pages.h('div', { class: 'unavailable' }, `The node did not answer: ${error.message}`));
    }
  })();
  await rendering;
  rendering = null;
  if (again) {
    again = false;
    await render();
  }
}

async function refreshHead() {
  const status = await read('/v1/status');
  const moved = status.height !== context.height;
  context.height = status.height;
  context.timestamp = status.timestamp;
  const text = byId('head-text');
  text.replaceChildren(
    pages.h('a', { href: `/v1/blocks/${status.height}`, target: '_blank', rel: 'noopener', title: status.state_root },
      `block #${status.height} · root ${short(status.state_root)}`),
  );
  return moved;
}

/** @param {string} state */
function setLive(state) {
  const live = byId('live');
  live.dataset.state = state;
  live.textContent = state;
}

function listen() {
  const source = new EventSource('/v1/events');
  source.addEventListener('open', () => setLive('live'));
  source.addEventListener('error', () => setLive('reconnecting'));
  source.addEventListener('event', (message) => {
    const feedEvent = JSON.parse(message.data);
    context.events.unshift(feedEvent);
    context.events.length = Math.min(context.events.length, 50);
    const feed = document.getElementById('feed');
    if (feed?.tagName === 'OL') {
      feed.prepend(pages.eventItem(feedEvent));
      while (feed.children.length > 12) feed.lastElementChild?.remove();
    }
    scheduleRefresh();
  });
  source.addEventListener('lagged', () => scheduleRefresh());
}

let refreshTimer = null;

/** One refresh for a burst of events (a block may carry many). */
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    try {
      await refreshHead();
    } catch {
      setLive('node unreachable');
      return;
    }
    await render();
  }, 150);
}

async function followHead() {
  try {
    if (await refreshHead()) await render();
  } catch {
    setLive('node unreachable');
  }
  setTimeout(followHead, 2000);
}

window.addEventListener('hashchange', () => render());
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => render(), 250);
});

await refreshHead().catch(() => setLive('node unreachable'));
listen();
await render();
setTimeout(followHead, 2000);
