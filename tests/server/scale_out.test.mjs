// Three real callswap-server processes on one PostgreSQL database (the throwaway cluster of
// tests/server/with_postgres.sh), many concurrent clients assigning, heartbeating and
// releasing across all three: no number is ever held by two live sessions and no
// acknowledged operation is lost; then one instance is killed (SIGKILL) under load: the
// other two go on, and the numbers its visitors held come back through the idle timeout.
// A call webhook delivered to two instances at the same moment is stored once.
// Usage (ctest does it): with_postgres.sh node tests/server/scale_out.test.mjs path/to/callswap-server
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test, after } from 'node:test';

const bin = process.argv[2] ?? process.env.CALLSWAP_SERVER_BIN;
const cluster = process.env.CALLSWAP_TEST_POSTGRES;
assert.ok(bin, 'usage: scale_out.test.mjs path/to/callswap-server');
assert.ok(cluster, 'run through tests/server/with_postgres.sh (CALLSWAP_TEST_POSTGRES)');

const POOL_SIZE = 30;
const HOLD_MS = 60_000; // hold_minutes: 1, the shortest the config allows
const CALLS_SECRET = 'scale-out-calls-secret-0123456789';
const work = mkdtempSync(join(tmpdir(), 'callswap-scale-'));
const socketDir = /host=(\S+)/.exec(cluster)[1];
const servers = [];

function sql(query) {
  const out = spawnSync('psql', [`${cluster} dbname=callswap`, '-Atqc', query], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.trim();
}

after(() => {
  for (const s of servers) s.child.kill('SIGKILL');
  // The servers' logs go to the privacy scan (tests/privacy), like the other server tests'.
  if (process.env.CALLSWAP_TEST_LOG_DIR) {
    for (const s of servers) appendFileSync(join(process.env.CALLSWAP_TEST_LOG_DIR, 'server_scale_out.log'), s.log);
  }
  rmSync(work, { recursive: true, force: true });
});

function startServer(name) {
  const child = spawn(bin, ['--config', join(work, 'callswap.json'), '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const server = { name, child, log: '', port: 0, exited: false };
  servers.push(server);
  child.on('exit', () => {
    server.exited = true;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${server.log}`)), 20_000);
    child.stderr.on('data', (chunk) => {
      server.log += chunk;
      const port = /"msg":"listening"[^\n]*"port":(\d+)/.exec(server.log);
      if (port && !server.port) {
        server.port = Number(port[1]);
        clearTimeout(timer);
        resolve(server);
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${server.log}`)));
  });
}

async function call(server, method, path, body, headers = {}) {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (list) => list[Math.floor(Math.random() * list.length)];

// What the clients saw, checked against each other and against the database.
const holders = new Map(); // number -> session that holds it, as acknowledged
const acknowledged = { created: new Map(), deleted: new Set(), heartbeats: 0 };
const violations = [];

function took(session, number, via) {
  const holder = holders.get(number);
  if (holder) violations.push(`${number} handed to ${session} (via ${via}) while ${holder} holds it`);
  holders.set(number, session);
  acknowledged.created.set(session, number);
}

async function assign(server) {
  const r = await call(server, 'POST', '/v1/sites/acme/sessions', JSON.stringify({ source: 'ads', consent: true }));
  if (r.status === 201) {
    took(r.body.session, r.body.number, server.name);
    return r.body;
  }
  assert.equal(r.status, 200, JSON.stringify(r.body)); // the static number: pool exhausted
  assert.equal(r.body.reason, 'pool_exhausted');
  return null;
}

async function heartbeat(server, session) {
  const r = await call(server, 'POST', `/v1/sessions/${session}/heartbeat`, '');
  assert.equal(r.status, 200, `heartbeat of ${session} via ${server.name}: ${JSON.stringify(r.body)}`);
  acknowledged.heartbeats++;
}

async function release(server, session) {
  holders.delete(acknowledged.created.get(session)); // before the number can go to anyone else
  const r = await call(server, 'DELETE', `/v1/sessions/${session}`);
  assert.equal(r.status, 204);
  acknowledged.deleted.add(session);
}

// One visitor after another: a number from one instance, a heartbeat through another, the
// release through a third.
async function churn(instances, until, errors) {
  while (Date.now() < until()) {
    try {
      const got = await assign(pick(instances()));
      if (!got) continue;
      await heartbeat(pick(instances()), got.session);
      await release(pick(instances()), got.session);
    } catch (error) {
      errors.push(error);
    }
  }
}

function checkDatabase() {
  assert.equal(sql('SELECT count(*) FROM (SELECT number FROM sessions WHERE released_at IS NULL GROUP BY site, number HAVING count(*) > 1) AS twice'), '0');
  const stored = new Map(sql("SELECT id || ' ' || number FROM sessions").split('\n').filter(Boolean).map((l) => l.split(' ')));
  let lost = 0;
  for (const [session, number] of acknowledged.created) {
    if (acknowledged.deleted.has(session)) {
      if (stored.has(session)) lost++; // an acknowledged erasure left the row
    } else if (stored.get(session) !== number) {
      lost++; // an acknowledged session is not stored, or not with its number
    }
  }
  return lost;
}

test('three instances on one PostgreSQL database share the pools', { timeout: 240_000 }, async (t) => {
  assert.equal(spawnSync('psql', [`${cluster} dbname=postgres`, '-qc', 'CREATE DATABASE callswap']).status, 0);
  const numbers = Array.from({ length: POOL_SIZE }, (_, i) => `+4930900${String(i).padStart(4, '0')}`);
  writeFileSync(join(work, 'callswap.json'), JSON.stringify({
    store: `postgresql:///callswap?host=${socketDir}&user=postgres`,
    sites: [{
      config: {
        site: 'acme', country: 'DE', targets: ['+49301234567'], pools: ['ads'],
        sources: [{ id: 'ads', static: '+49301111111', pool: 'ads', match: { click_ids: ['gclid'] } },
          { id: 'direct', static: '+49301234567', default: true }],
      },
      pools: { ads: { numbers, hold_minutes: HOLD_MS / 60_000, cooldown_minutes: 0, when_exhausted: 'static' } },
    }],
    webhooks: { calls_secret: CALLS_SECRET },
    limits: { rate_per_minute: 0 },
  }));
  // Started together: one migrates, the others wait for it.
  const all = await Promise.all(['a', 'b', 'c'].map(startServer));

  await t.test('many clients across all three: no double holds, nothing acknowledged lost', async () => {
    const errors = [];
    const end = Date.now() + 6000;
    await Promise.all(Array.from({ length: 24 }, () => churn(() => all, () => end, errors)));
    assert.deepEqual(errors.map(String), []);
    assert.deepEqual(violations, []);
    t.diagnostic(`${acknowledged.created.size} sessions, ${acknowledged.heartbeats} heartbeats, ${acknowledged.deleted.size} releases acknowledged`);
    assert.ok(acknowledged.created.size > 200, `only ${acknowledged.created.size} sessions`);
    assert.equal(checkDatabase(), 0);
    assert.equal(sql('SELECT count(*) FROM sessions WHERE released_at IS NULL'), '0');
  });

  await t.test('one instance killed under load: the others go on, its numbers come back after the hold', async () => {
    const [a, b, c] = all;
    // Visitors who stay: six on the instances that live, six on the one that will die.
    const stay = [];
    for (const server of [a, b, a, b, a, b]) stay.push({ server, ...(await assign(server)) });
    const orphaned = [];
    for (let i = 0; i < 6; i++) orphaned.push(await assign(c));
    assert.ok(stay.every((s) => s.session) && orphaned.every(Boolean));
    let living = [a, b, c];
    let stopChurn = false;
    const errors = [];
    const churning = Promise.all(Array.from({ length: 12 }, () => churn(() => living, () => (stopChurn ? 0 : Infinity), errors)));
    await sleep(1500);
    c.child.kill('SIGKILL');
    living = [a, b];
    await sleep(100);
    const errorsAtKill = errors.length; // requests that were in flight to c
    await sleep(3000);
    stopChurn = true;
    await churning;
    assert.ok(c.exited, 'the killed instance is gone');
    assert.deepEqual(errors.slice(errorsAtKill).map(String), [], 'the two living instances answer everything');
    t.diagnostic(`${errorsAtKill} requests in flight to the killed instance failed`);
    assert.ok(errorsAtKill <= 12, `${errorsAtKill} requests failed at the kill: at most those in flight`);
    assert.deepEqual(violations, []);
    // The requests in flight to c when it died were never acknowledged; forget what they may
    // have left half-done (an unacknowledged session idles out like the orphans).
    const stoppedAt = Date.now();
    // The visitors who stay keep their numbers through heartbeats, every 10 s; the orphans'
    // numbers come back once they have been idle for the hold.
    while (Date.now() - stoppedAt < HOLD_MS + 2000) {
      for (const s of stay) await heartbeat(s.server, s.session);
      await sleep(Math.min(10_000, HOLD_MS + 2000 - (Date.now() - stoppedAt)));
    }
    for (const s of stay) await heartbeat(s.server, s.session);
    for (const o of orphaned) {
      const r = await call(a, 'POST', `/v1/sessions/${o.session}/heartbeat`, '');
      assert.equal(r.status, 404, 'an orphaned session ended with its hold');
      holders.delete(o.number);
    }
    // Everything idle is handed out again: the pool gives every number but the six held.
    for (const [number, session] of holders) {
      if (!stay.some((s) => s.session === session)) holders.delete(number);
    }
    const refill = [];
    for (let got = await assign(a); got; got = await assign(pick([a, b]))) refill.push(got.number);
    assert.deepEqual(violations, []);
    assert.equal(refill.length, POOL_SIZE - stay.length);
    for (const o of orphaned) assert.ok(refill.includes(o.number), `${o.number} came back`);
    for (const s of stay) assert.ok(!refill.includes(s.number), `${s.number} stayed with its visitor`);
    // Acknowledged before the kill, still there after it.
    for (const s of stay) acknowledged.created.set(s.session, s.number);
    const unacknowledgedAtKill = sql('SELECT id FROM sessions').split('\n').filter((id) => id && !acknowledged.created.has(id));
    assert.ok(unacknowledgedAtKill.length <= 12);
    assert.equal(sql(`SELECT count(*) FROM sessions WHERE released_at IS NULL AND id IN ('${orphaned.map((o) => o.session).join("','")}')`), '0');
    assert.equal(checkDatabase(), 0);
  });

  await t.test('a call webhook delivered to two instances at the same moment is stored once', async () => {
    const [a, b] = all;
    let fresh = 0;
    for (let i = 0; i < 25; i++) {
      const body = JSON.stringify({ call_id: `CA-twice-${i}`, to: '+49309000000', from: '+491701234567', status: 'completed', duration_seconds: 30 });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers = {
        'X-Callswap-Timestamp': timestamp,
        'X-Callswap-Signature': `sha256=${createHmac('sha256', CALLS_SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
      };
      const answers = await Promise.all([a, b].map((s) => call(s, 'POST', '/v1/webhooks/calls', body, headers)));
      for (const r of answers) assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
      fresh += answers.filter((r) => r.body.new === true).length;
    }
    assert.equal(fresh, 25, 'each call is new to exactly one of the two');
    assert.equal(sql("SELECT count(*) FROM calls WHERE provider_call_id LIKE 'CA-twice-%'"), '25');
  });
});
