// Captures one EPCIS 2.0 document into an EPCIS server with the GS1 EPCIS 2.0
// JS SDK (npm package epcis2.js), authenticating with a bearer token only.
//
//   node capture.mjs <baseUrl> <token> <document.jsonld>
//
// It uses the SDK's own API: setup({apiUrl, headers}) for the global settings,
// new EPCISDocument(json) to load the document (the SDK validates it against
// its bundled schema before sending), capture(document) to POST
// `${apiUrl}capture`, then new CaptureResponse(response) and its
// pollForTheCaptureToFinish() to GET `${apiUrl}capture/{id}` until the job
// is no longer running.
//
// stdout: one JSON line from the final job state:
//   {"captureID":..,"running":..,"success":..,"errors":[..],"location":..}
// exit 0 only if the job finished (running false) with success true;
// exit 1 otherwise, with the reason on stderr; exit 2 on bad usage.
//
// Optional environment:
//   EPCIS2JS_POLL_TRIES     how many GETs of the job at most (SDK default 5)
//   EPCIS2JS_POLL_DELAY_MS  delay between GETs in ms (SDK default 2000)
//   EPCIS2JS_TRACE=1        log every request the SDK makes to stderr
//
// The SDK is CommonJS (webpack bundle, main ./dist/epcis2.node.js), so it is
// imported as a default export.

import { readFile } from 'node:fs/promises';
import epcis from 'epcis2.js';

const { setup, capture, EPCISDocument, CaptureResponse, defaultSettings } = epcis;

function fail(reason, code = 1) {
  process.stderr.write(`epcis2js capture: ${reason}\n`);
  process.exit(code);
}

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n < 0) fail(`${name} must be a non-negative integer, got ${raw}`, 2);
  return n;
}

const [baseUrl, token, docPath] = process.argv.slice(2);
if (!baseUrl || !token || !docPath || process.argv.length !== 5) {
  fail('usage: node capture.mjs <baseUrl> <token> <document.jsonld>', 2);
}
// The SDK's own defaults: 5 GETs at most, 2000 ms apart.
const pollTries = envInt('EPCIS2JS_POLL_TRIES', 5);
const pollDelayMs = envInt('EPCIS2JS_POLL_DELAY_MS', 2000);

// The SDK calls the global fetch (Node's own on Node >= 18; its cross-fetch
// polyfill only fills in a missing one). Wrap it to keep a trace of what the
// SDK sent and got, for diagnostics only; requests are passed through untouched.
const trace = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const entry = { method: String(init.method || 'GET').toUpperCase(), url: String(url) };
  trace.push(entry);
  try {
    const res = await realFetch(url, init);
    entry.status = res.status;
    return res;
  } catch (e) {
    entry.error = String(e && e.cause ? `${e.message}: ${e.cause.message || e.cause}` : e);
    throw e;
  } finally {
    if (process.env.EPCIS2JS_TRACE === '1') {
      process.stderr.write(`epcis2js trace: ${JSON.stringify(entry)}\n`);
    }
  }
};
const traceText = () => trace.map((t) => `${t.method} ${t.url} -> ${t.status ?? t.error ?? '?'}`).join('; ');

// setup() replaces settings.headers wholesale (a shallow Object.assign), so the
// SDK's default content-type must be carried over explicitly: without it a
// string body goes out as text/plain;charset=UTF-8.
setup({
  apiUrl: baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
  headers: {
    ...defaultSettings.headers,
    authorization: `Bearer ${token}`,
  },
});

let json;
try {
  json = JSON.parse(await readFile(docPath, 'utf8'));
} catch (e) {
  fail(`cannot read ${docPath}: ${e.message}`);
}

let document;
try {
  document = new EPCISDocument(json);
} catch (e) {
  fail(`the SDK cannot load ${docPath} as an EPCISDocument: ${e.message}`);
}

let response;
try {
  // Validates the document with the SDK's schema first (throws if invalid).
  response = await capture(document);
} catch (e) {
  const reason = e && e.cause ? `${e.message}: ${e.cause.message || e.cause}` : (e && e.message) || String(e);
  fail(`capture failed before a response: ${reason}${trace.length ? ` [${traceText()}]` : ''}`);
}

// The SDK returns the raw fetch Response without looking at its status.
if (response.status !== 202) {
  let body = '';
  try {
    body = await response.text();
  } catch (e) {
    body = `<unreadable body: ${e.message}>`;
  }
  fail(`POST capture answered ${response.status} (expected 202): ${body.slice(0, 2000)}`);
}

let job;
try {
  job = new CaptureResponse(response); // throws if there is no Location header
} catch (e) {
  fail(`202 without a usable capture job: ${e.message}`);
}

// pollForTheCaptureToFinish() keeps only running/success/errors/errorFile of
// each job JSON; keep the whole last one too, for its captureID.
let lastJob = null;
const getCaptureJob = job.getCaptureJob.bind(job);
job.getCaptureJob = async (options) => {
  lastJob = await getCaptureJob(options);
  return lastJob;
};

try {
  await job.pollForTheCaptureToFinish(pollTries, pollDelayMs);
} catch (e) {
  fail(`polling the capture job at ${job.getLocation()} failed: ${e.message} [${traceText()}]`);
}

const state = {
  captureID: lastJob?.captureID ?? null,
  running: job.running ?? null,
  success: job.success ?? null,
  errors: job.errors ?? [],
  location: job.getLocation(),
};
process.stdout.write(`${JSON.stringify(state)}\n`);

if (typeof job.running !== 'boolean') {
  fail(`the capture job JSON has no boolean "running" (got ${JSON.stringify(lastJob)}) [${traceText()}]`);
}
if (job.running) {
  fail(`capture job still running after polling [${traceText()}]`);
}
if (job.success !== true) {
  fail(`capture job finished without success (success=${JSON.stringify(job.success)}, errors=${JSON.stringify(job.errors)}) [${traceText()}]`);
}
process.exit(0);
