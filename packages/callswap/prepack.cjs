// `npm pack` takes the browser files from the build (make dist) and the licence from the
// repository root, so the package always carries the files this checkout built.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const dist = process.env.CALLSWAP_DIST_DIR || path.join(root, 'dist');
fs.mkdirSync(path.join(__dirname, 'dist'), { recursive: true });
for (const file of ['callswap.js', 'callswap.wasm', 'callswap-decide.wasm']) {
  const from = path.join(dist, file);
  if (!fs.existsSync(from)) {
    console.error(`callswap package: ${from} is missing: run 'make dist' first`);
    process.exit(1);
  }
  fs.copyFileSync(from, path.join(__dirname, 'dist', file));
}
fs.copyFileSync(path.join(root, 'LICENSE'), path.join(__dirname, 'LICENSE'));
