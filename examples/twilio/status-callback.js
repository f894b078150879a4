#!/usr/bin/env node
// Sends a call status callback signed the way Twilio signs it (X-Twilio-Signature: HMAC-SHA1
// of the public URL and the sorted form parameters, keyed with the auth token), to try a
// callswap server before pointing real numbers at it.
//   node examples/twilio/status-callback.js --server http://127.0.0.1:8080 \
//     --public-url https://track.example.com --token "$TWILIO_AUTH_TOKEN" --to +49309000001 --from +4915112345678
'use strict';
const crypto = require('node:crypto');

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
};
const server = option('server', 'http://127.0.0.1:8080');
const publicUrl = option('public-url', server);
const token = option('token', process.env.TWILIO_AUTH_TOKEN || '');
const params = {
  CallSid: option('call-sid', `CA${crypto.randomBytes(16).toString('hex')}`),
  To: option('to', ''),
  From: option('from', ''),
  CallStatus: option('status', 'completed'),
  CallDuration: option('duration', '42'),
};
if (!token || !params.To) {
  console.error('usage: status-callback.js --server URL [--public-url URL] --token TOKEN --to E164 [--from E164]');
  process.exit(2);
}
const path = '/v1/webhooks/twilio';
const signed = publicUrl + path + Object.keys(params).sort().map((key) => key + params[key]).join('');
const signature = crypto.createHmac('sha1', token).update(signed).digest('base64');
fetch(server + path, {
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
  body: new URLSearchParams(params).toString(),
}).then(async (response) => {
  console.log(response.status, await response.text());
  process.exit(response.ok ? 0 : 1);
}, (error) => {
  console.error(error.message);
  process.exit(1);
});
