// Copies what the dashboard uses from node_modules into vendor/, with the licenses, so that
// the node serves it from the binary and the pages need no network and no build step at run
// time:
// - the chart library (uPlot), as published;
// - viem's keccak-256 and ABI encoder (the wallet's sealed-bid commitment), bundled by esbuild
//   into one small ES module (viem's own code and the @noble/hashes and abitype parts it uses).
// Run: cd dashboard && npm ci && npm run vendor
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const version = (name) => JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')).version;

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
console.log(`uPlot ${version('uplot')}`);

const bundled = ['viem', '@noble/hashes', 'abitype'];
const banner = `// viem ${version('viem')} (keccak256, encodeAbiParameters, bytesToHex), bundled by dashboard/vendor.mjs; licenses in viem.LICENSE`;
await build({
  stdin: { contents: "export { bytesToHex, encodeAbiParameters, keccak256 } from 'viem';", resolveDir: '.', loader: 'js' },
  bundle: true,
  format: 'esm',
  minify: true,
  legalComments: 'none',
  banner: { js: banner },
  outfile: 'vendor/viem.mjs',
});
writeFileSync('vendor/viem.LICENSE', bundled
  .map((name) => `${name} ${version(name)}\n\n${readFileSync(`node_modules/${name}/LICENSE`, 'utf8').trim()}\n`)
  .join('\n----\n\n'));
console.log(`node_modules/viem -> vendor/viem.mjs (viem ${version('viem')}, esbuild ${version('esbuild')})`);
