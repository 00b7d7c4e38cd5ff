// Runs the GraphQL-over-HTTP server audit of graphql-http (the audits its
// auditServer runs) against a running facade, and fails unless every
// audit passes, on both media types (application/json and
// application/graphql-response+json).
//
//   node audit.mjs <GraphQL URL> <bearer token>
//
// It audits twice, each audit one request at a time with the bearer
// token (an OP's console token: the requests are those of a client):
//
//   1. as a plain client. The facade refuses a GET that carries no
//      preflight header (CSRF prevention, as Apollo Server's), so the
//      audits of optional GET support fail, as notices: those, and only
//      those, are allowed here, each answered 400 CSRF_PREVENTED.
//   2. with Apollo-Require-Preflight: true, as an Apollo client set up
//      for GET sends it: every audit must pass.
//
// A warning (a SHOULD missed) or an error (a MUST missed) fails either
// pass. A request over the token's fair share (429) is sent again after
// its Retry-After, as a client would.
import { readFileSync } from 'node:fs';
import { serverAudits } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs <GraphQL URL> <bearer token>');
  process.exit(2);
}

// The audits a client without a preflight header may fail, as notices:
// GET requests, which CSRF prevention refuses without one.
const csrfGETAudits = new Set(['5A70', 'D6D5', '6A70']);

const mediaTypes = ['application/json', 'application/graphql-response+json', 'either'];

// mediaOf is the media type an audit is about, by its name: the answer
// the client accepts, or the request it sends; "either" for the rest.
function mediaOf(name) {
  if (name.includes('application/graphql-response+json')) return 'application/graphql-response+json';
  if (name.includes('application/json')) return 'application/json';
  return 'either';
}

let retries = 0;

// client is fetch with the bearer token and headers, that sends a request
// refused with 429 again after Retry-After, up to ten times.
function client(headers) {
  return async (input, init = {}) => {
    const h = new Headers(init.headers);
    h.set('authorization', `Bearer ${token}`);
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    let res;
    for (let attempt = 0; attempt < 10; attempt++) {
      res = await fetch(input, { ...init, headers: h });
      if (res.status !== 429) return res;
      retries++;
      const wait = Math.max(1, Number(res.headers.get('retry-after')) || 1);
      await res.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
    return res;
  };
}

// answerOf reads what a failed audit's response said: its status and the
// first error's code, or the start of its body.
async function answerOf(result) {
  const res = result.response;
  if (!res) return { status: 0, code: '', text: '' };
  let text = '';
  try {
    text = await res.clone().text();
  } catch {
    // the audit read it already
  }
  let code = '';
  try {
    code = JSON.parse(text).errors?.[0]?.extensions?.code ?? '';
  } catch {
    // not JSON
  }
  return { status: res.status, code, text: text.slice(0, 300) };
}

async function audit(title, headers) {
  const results = [];
  for (const a of serverAudits({ url, fetchFn: client(headers) })) {
    results.push(await a.fn()); // one at a time: a client's pace, and a readable server log
  }
  const counts = Object.fromEntries(mediaTypes.map((m) => [m, { ok: 0, notice: 0, warn: 0, error: 0 }]));
  const failed = [];
  for (const r of results) {
    counts[mediaOf(r.name)][r.status]++;
    if (r.status !== 'ok') failed.push({ ...r, answer: await answerOf(r) });
  }
  console.log(`\n${title}: ${results.length} audits`);
  console.log(`  ${'media type'.padEnd(36)}${['ok', 'notice', 'warn', 'error'].map((s) => s.padStart(7)).join('')}`);
  for (const m of mediaTypes) {
    const c = counts[m];
    const label = m === 'either' ? '(not media-specific)' : m;
    console.log(`  ${label.padEnd(36)}${[c.ok, c.notice, c.warn, c.error].map((n) => String(n).padStart(7)).join('')}`);
  }
  for (const f of failed) {
    console.log(`  ${f.status} ${f.id} ${f.name}: ${f.reason}; HTTP ${f.answer.status} ${f.answer.code || f.answer.text}`);
  }
  return { results, failed };
}

const version = JSON.parse(readFileSync(new URL('./node_modules/graphql-http/package.json', import.meta.url))).version;
console.log(`graphql-http ${version} server audit of ${url}, with a bearer token`);

const problems = [];
const plain = await audit('a client without a preflight header', {});
for (const f of plain.failed) {
  const csrf = f.status === 'notice' && csrfGETAudits.has(f.id) && f.answer.status === 400 && f.answer.code === 'CSRF_PREVENTED';
  if (!csrf) problems.push(`without a preflight header: ${f.status} ${f.id} ${f.name}`);
}
const preflight = await audit('a client sending Apollo-Require-Preflight: true', { 'apollo-require-preflight': 'true' });
for (const f of preflight.failed) {
  problems.push(`with a preflight header: ${f.status} ${f.id} ${f.name}`);
}
if (plain.results.length === 0 || preflight.results.length === 0) {
  problems.push('no audit ran');
}

console.log('');
if (retries > 0) {
  console.log(`(${retries} requests over the token's fair share were sent again after Retry-After)`);
}
if (problems.length > 0) {
  console.log(`graphql-http audit FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const notices = plain.failed.map((f) => f.id).join(', ');
console.log(
  'graphql-http audit passed: no warning and no error on either media type' +
    (notices ? `; the notices without a preflight header (${notices}) are GETs CSRF prevention refuses, and pass with one` : ''),
);
