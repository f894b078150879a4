// Starting the real callswap-server from Node: what the demo (examples/serve.js), the
// browser tests (tests/browser/harness.js) and the browser benchmarks (bench/browser/) share.
// Nothing here ships to visitors.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
// Absolute: callswap-server reads a relative static_dir against its config file's folder.
const dist = path.resolve(process.env.CALLSWAP_DIST_DIR || path.join(root, 'dist'));
const serverBinary = process.env.CALLSWAP_SERVER_BIN || path.join(root, 'build', 'bin', 'callswap-server');

/**
 * Starts callswap-server with `config` (an operator config object, written to a temporary
 * file) and resolves once it listens: {url, log(), stop()}. `options.binary`,
 * `options.env` (added to the environment), `options.log(line)` (each stderr line).
 */
function startCallswapServer(config, options = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-'));
  const file = path.join(work, 'callswap.json');
  fs.writeFileSync(file, JSON.stringify(config));
  const child = spawn(options.binary || serverBinary, ['--config', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
    if (options.log) for (const line of String(chunk).split('\n')) if (line) options.log(line);
  });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const found = /"port":(\d+)/.exec(log);
      if (!found) return;
      clearInterval(timer);
      resolve({
        url: `http://127.0.0.1:${found[1]}`,
        log: () => log,
        async stop() {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await new Promise((done) => child.on('exit', done));
          }
          fs.rmSync(work, { recursive: true, force: true });
        },
      });
    }, 20);
    child.on('exit', (code) => {
      clearInterval(timer);
      fs.rmSync(work, { recursive: true, force: true });
      reject(new Error(`callswap-server exited with ${code}: ${log}`));
    });
  });
}

/**
 * callswap-server as an operator runs it, on a fresh SQLite file, serving `dist/` (or
 * `extra.static_dir`) as its static directory. `sites` are operator config site entries;
 * `extra` replaces top-level fields. `onStop(log)` sees the server's whole log at the end.
 */
async function startCallswap(sites, extra = {}, { onStop } = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-site-'));
  const config = { listen: '127.0.0.1:0', database: path.join(work, 'callswap.db'), static_dir: dist, sites, ...extra };
  try {
    const server = await startCallswapServer(config);
    return {
      url: server.url,
      log: server.log,
      async stop() {
        await server.stop();
        if (onStop) onStop(server.log());
        fs.rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

module.exports = { startCallswapServer, startCallswap, root, dist };
