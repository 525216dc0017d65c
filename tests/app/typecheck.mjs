// The typed API, checked (issue 15 item 5): generates a TypeScript client from the node's
// `/openapi.json` with openapi-typescript, then runs TypeScript's checker over the app and the
// dashboard (`dashboard/api.js`, `dom.js`, `wallet-actions.js`, `wallet.js`, `pages.js`, `credit.js`, `app.js`: plain JS
// with `// @ts-check` and JSDoc types;
// `dashboard/api-types.d.ts` maps a route to the generated request and response types), so
// every API call the app makes, the fields it reads from each answer and the bodies it posts
// must agree with the node's schemas. A probe that reads a field no answer has, reads a route
// the API does not document and posts a body without a required field must fail with exactly
// those three errors: the check is known to bite.
//
// Usage: node typecheck.mjs <node url> <output dir>
// Prints one JSON summary line; exits non-zero when the app does not type-check or the probe
// does not fail as it must. The generated client is kept as <output dir>/openapi.d.ts.

import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [url, outputDir] = process.argv.slice(2);
if (!url || !outputDir) {
  console.error('usage: node typecheck.mjs <node url> <output dir>');
  process.exit(2);
}
mkdirSync(outputDir, { recursive: true });
const dashboard = join(dirname(fileURLToPath(import.meta.url)), '../../dashboard');
/** The modules that are type-checked: every one that reads the API (each starts with `// @ts-check`). */
const CHECKED = ['api.js', 'dom.js', 'wallet-actions.js', 'wallet.js', 'pages.js', 'credit.js', 'app.js'];

/** What the checker is told: the browser's library, strict null checks, JS checked per file. */
const OPTIONS = {
  allowJs: true,
  checkJs: false,
  noEmit: true,
  strict: false,
  strictNullChecks: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  skipLibCheck: true,
};

/** The diagnostics of a program over `roots`, as `{file, line, code, message}`. */
function diagnose(roots) {
  const program = ts.createProgram(roots, OPTIONS);
  return ts.getPreEmitDiagnostics(program).map((d) => ({
    file: d.file ? d.file.fileName.split('/').pop() : null,
    line: d.file ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : null,
    code: d.code,
    message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
  }));
}

const PROBE = `// @ts-check
import { read } from './api.js';
const status = await read('/v1/status');
console.log(status.height, status.no_such_field);
await read('/v1/no-such-route');
/** @type {import('./api-types').PostBody<'/v1/dry-run'>} */
const body = { action: { type: 'stake' } };
`;

const work = mkdtempSync(join(tmpdir(), 'infrafi-typecheck-'));
const summary = { ok: false };
try {
  const started = Date.now();
  const response = await fetch(`${url}/openapi.json`);
  if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
  const document = await response.json();
  const client = astToString(await openapiTS(document));
  summary.generated_ms = Date.now() - started;
  summary.paths = Object.keys(document.paths).length;
  summary.client_lines = client.split('\n').length;
  writeFileSync(join(outputDir, 'openapi.d.ts'), client);

  // The app as the node serves it, with the generated client where its JSDoc imports it.
  const app = join(work, 'dashboard');
  mkdirSync(app);
  for (const file of readdirSync(dashboard).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
    copyFileSync(join(dashboard, file), join(app, file));
  }
  cpSync(join(dashboard, 'vendor'), join(app, 'vendor'), { recursive: true });
  writeFileSync(join(app, 'openapi.d.ts'), client);
  writeFileSync(join(app, 'probe.js'), PROBE);

  const checkStarted = Date.now();
  summary.app_diagnostics = diagnose(CHECKED.map((f) => join(app, f)));
  summary.checked_files = CHECKED;
  summary.probe_diagnostics = diagnose([join(app, 'probe.js')]).filter((d) => d.file === 'probe.js');
  summary.check_ms = Date.now() - checkStarted;

  const expected = [[4, 2339], [5, 2345], [7, 2741]];
  const probe = summary.probe_diagnostics.map((d) => [d.line, d.code]);
  summary.probe_bites = JSON.stringify(probe) === JSON.stringify(expected);
  summary.ok = summary.app_diagnostics.length === 0 && summary.probe_bites;
  if (!summary.probe_bites) summary.error = `the probe gave ${JSON.stringify(probe)}, expected ${JSON.stringify(expected)}`;
  else if (!summary.ok) summary.error = `the wallet app does not type-check against the generated client: ${summary.app_diagnostics.map((d) => `${d.file}:${d.line} ${d.message}`).join(' | ')}`;
} catch (error) {
  summary.error = error.message;
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
if (!summary.ok) process.exitCode = 1;
