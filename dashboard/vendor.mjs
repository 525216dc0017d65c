// Copies the chart library from node_modules into vendor/, with its license, so that the
// node serves it from the binary and the dashboard needs no network at run time.
// Run: cd dashboard && npm ci && npm run vendor
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

const files = [
  ['node_modules/uplot/dist/uPlot.iife.min.js', 'vendor/uPlot.iife.min.js'],
  ['node_modules/uplot/dist/uPlot.min.css', 'vendor/uPlot.min.css'],
  ['node_modules/uplot/LICENSE', 'vendor/uPlot.LICENSE'],
];
mkdirSync('vendor', { recursive: true });
for (const [from, to] of files) {
  copyFileSync(from, to);
  console.log(`${from} -> ${to}`);
}
const { version } = JSON.parse(readFileSync('node_modules/uplot/package.json', 'utf8'));
console.log(`uPlot ${version}`);
