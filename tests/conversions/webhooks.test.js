// Signed outbound webhooks against the real callswap-server binary and a real SQLite file,
// received by a Node HTTP server that verifies each signature with Node's own crypto (an
// implementation independent of the server's): the receiver refuses the first three
// deliveries and gets the event exactly once after them; the server is killed with SIGKILL
// while a delivery is pending and delivers it after a restart on the same file.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const binary = process.env.CALLSWAP_SERVER_BIN || path.join(root, 'build', 'bin', 'callswap-server');
const CALLS_SECRET = 'webhook-test-calls-secret-0123';
const OUTBOUND_SECRET = 'outbound-webhook-secret-0123456789';
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The receiver: checks X-Callswap-Signature (sha256=HMAC-SHA256 over "<timestamp>.<body>")
// and the timestamp's freshness, and answers 500 while `refuse()` says so.
async function startReceiver(refuse) {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = req.headers['x-callswap-timestamp'] || '';
      const expected = `sha256=${crypto.createHmac('sha256', OUTBOUND_SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      const given = String(req.headers['x-callswap-signature'] || '');
      const valid = given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected)) &&
        Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      const status = !valid ? 401 : refuse(received.length) ? 500 : 204;
      received.push({ status, valid, body: JSON.parse(body), key: req.headers['idempotency-key'], event: req.headers['x-callswap-event'],
        path: req.url });
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${server.address().port}/hooks/calls`, close: () => new Promise((r) => server.close(r)) };
}

function operatorConfig(database, webhookUrl, events) {
  return {
    listen: '127.0.0.1:0',
    database,
    sites: [{
      config: { site: 'acme', country: 'DE', targets: ['+49301234567'], pools: ['ads'],
        sources: [{ id: 'google-ads', static: '+49301111111', pool: 'ads', match: { click_ids: ['gclid'] } },
          { id: 'direct', static: '+49301234567', default: true }] },
      pools: { ads: { numbers: ['+49309000001', '+49309000002', '+49309000003'], hold_minutes: 30 } },
      conversions: { webhooks: [{ id: 'crm', url: webhookUrl, secret: OUTBOUND_SECRET, events }] },
    }],
    webhooks: { calls_secret: CALLS_SECRET },
    outbox: { retry_base_ms: 100, retry_max_ms: 400, give_up_after_seconds: 120 },
    limits: { rate_per_minute: 0, webhook_rate_per_minute: 0 },
  };
}

// callswap-server on `config`, resolved once it listens; `kill(signal)` ends it.
async function startServer(dir, config) {
  const file = path.join(dir, 'callswap.json');
  fs.writeFileSync(file, JSON.stringify(config));
  const child = spawn(binary, ['--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 250 && !/"port":(\d+)/.test(log); i++) {
    if (child.exitCode !== null) throw new Error(`callswap-server exited: ${log}`);
    await wait(20);
  }
  const port = /"port":(\d+)/.exec(log);
  if (!port) throw new Error(`callswap-server did not start: ${log}`);
  return {
    url: `http://127.0.0.1:${port[1]}`,
    log: () => log,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

async function visitAndCall(server, callId, ids) {
  const session = await fetch(`${server.url}/v1/sites/acme/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ source: 'google-ads', consent: true, campaign: { click_id: 'gclid' }, ...(ids ? { ids } : {}) }) });
  assert.equal(session.status, 201);
  const { number } = await session.json();
  const body = JSON.stringify({ call_id: callId, to: number, from: '+4915112345678', status: 'completed', duration_seconds: 75 });
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = crypto.createHmac('sha256', CALLS_SECRET).update(`${ts}.${body}`).digest('hex');
  const call = await fetch(`${server.url}/v1/webhooks/calls`, { method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Callswap-Timestamp': ts, 'X-Callswap-Signature': `sha256=${signature}` } });
  assert.equal(call.status, 201);
}

async function until(condition, what, ms = 10000) {
  for (const end = Date.now() + ms; Date.now() < end; await wait(25)) if (condition()) return;
  assert.fail(`timed out waiting for ${what}`);
}

test('a signed webhook refused three times arrives exactly once after, a click id only with consent', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-webhooks-'));
  const receiver = await startReceiver((index) => index < 3);
  const server = await startServer(dir, operatorConfig(path.join(dir, 'callswap.db'), receiver.url, ['call.completed']));
  t.after(async () => {
    await server.kill();
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await visitAndCall(server, 'call-with-consent', { click_id: { type: 'gclid', value: 'GCLID-webhook-1', consent: 'consent_mode' } });
  await until(() => receiver.received.length >= 4, 'four attempts');
  await wait(1000); // retries would come within 400 ms: none does
  const got = receiver.received;
  assert.equal(got.length, 4, 'three refused attempts and one delivery, nothing after');
  assert.deepEqual(got.map((r) => r.status), [500, 500, 500, 204]);
  assert.ok(got.every((r) => r.valid), 'every attempt is signed');
  assert.equal(new Set(got.map((r) => r.key)).size, 1, 'one idempotency key for every attempt');
  assert.equal(got[3].body.id, got[3].key);
  assert.equal(got[3].event, 'call.completed');
  assert.equal(got[3].path, '/hooks/calls');
  const event = got[3].body;
  assert.equal(event.type, 'call.completed');
  assert.equal(event.site, 'acme');
  assert.equal(event.call.id, 'call-with-consent');
  assert.equal(event.call.source, 'google-ads');
  assert.equal(event.call.duration_seconds, 75);
  assert.deepEqual(event.call.click_id, { type: 'gclid', value: 'GCLID-webhook-1', consent: 'consent_mode' });
  assert.equal(event.call.caller_number, undefined, 'no caller number unless configured for a key allowed to see it');
  assert.ok(!JSON.stringify(event).includes('4915112345678'));

  // The same visit without advertising consent: attributed, but no click id in any webhook.
  await visitAndCall(server, 'call-without-consent');
  await until(() => receiver.received.length >= 5, 'the second event');
  const second = receiver.received[4].body;
  assert.equal(second.call.id, 'call-without-consent');
  assert.equal(second.call.source, 'google-ads');
  assert.equal(second.call.click_id, undefined);
  assert.ok(!server.log().includes('GCLID'), 'no click id in the log');
  assert.ok(!server.log().includes('4915112345678'), 'no caller number in the log');
});

test('a delivery pending when the server is killed with SIGKILL is delivered after the restart, once', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callswap-webhooks-'));
  let down = true;
  const receiver = await startReceiver(() => down);
  const config = operatorConfig(path.join(dir, 'callswap.db'), receiver.url, ['call.attributed', 'call.completed']);
  let server = await startServer(dir, config);
  t.after(async () => {
    await server.kill();
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await visitAndCall(server, 'call-before-kill');
  await until(() => receiver.received.length >= 2, 'the first refused attempts');
  await server.kill('SIGKILL');
  const refused = receiver.received.length;
  down = false;
  await wait(300);
  assert.equal(receiver.received.length, refused, 'nothing is sent while the server is down');
  server = await startServer(dir, config);
  await until(() => receiver.received.filter((r) => r.status === 204).length >= 2, 'both events after the restart');
  await wait(1000);
  const delivered = receiver.received.filter((r) => r.status === 204);
  assert.equal(delivered.length, 2, 'each event delivered once');
  assert.deepEqual(delivered.map((r) => r.body.type).sort(), ['call.attributed', 'call.completed']);
  assert.ok(receiver.received.every((r) => r.valid));
});
