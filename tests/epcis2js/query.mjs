// Captures EPCIS 2.0 documents into an oretrace server with the GS1 EPCIS 2.0
// JS SDK (npm package epcis2.js), then queries them back through the EPCIS
// 2.0 REST query interface and checks what comes back with the SDK.
//
//   node query.mjs <baseUrl> <token> <document.jsonld>...
//
// epcis2.js 2.7.3 has NO query or subscription helpers: its public API
// (dist/epcis2.node.js, see src/index.js) exports document/event builders,
// setup(), capture(), CaptureResponse, the schema validator and the event
// hash generator, and nothing that builds or sends a query, a named query or
// a subscription (its internal request()/buildParams() are not exported).
// So the queries here go out with Node's fetch, using the SDK's own settings
// (apiUrl and headers as setup() left them), and every answer is checked
// with the SDK:
//
//   * validateEpcisDocument(answer): the SDK's bundled EPCIS 2.0 schema,
//     which covers EPCISQueryDocument (epcisBody.queryResults.resultsBody);
//   * objectToEvent(event): each returned event loads as an SDK event of
//     the right type;
//   * eventToHashedId(event, context): the SDK's CBV 2.0 event hash of each
//     event as sent and as served, compared with the server's eventID and
//     reported (not judged here: the Rust test decides).
//
// Steps (each must hold, or exit 1 with the reason on stderr):
//   0. <since>: a whole second after the record time of every event the
//      server already holds (record times may be kept to the second);
//   1. capture every document with the SDK (as capture.mjs does), each job
//      finished with success and every event "captured";
//   2. GET events?GE_recordTime=<since>&perPage=2, following the Link
//      rel="next" pages: exactly the captured events;
//   3. GET events?GE_recordTime=<since>&eventType=ObjectEvent|AggregationEvent:
//      exactly the captured events of those types;
//   4. GET events?GE_recordTime=<since>&MATCH_epc=<EPC>: exactly the
//      captured events that name <EPC> in epcList/childEPCs (the first EPC
//      of the first captured event that has one);
//   5. POST queries {name, query: {eventType: [ObjectEvent], GE_recordTime}}
//      answered 201 with Location /queries/<name>; GET it back; then
//      GET queries/<name>/events?perPage=1 page by page: exactly the
//      captured ObjectEvents, queryName <name>;
//   6. (with EPCIS2JS_SUBSCRIBE_DOC) start an HTTP receiver on 127.0.0.1
//      (port 0), POST queries/<name>/subscriptions {dest, stream: true,
//      signatureToken} (201, subscriptionID, Location); capture that
//      document with the SDK; wait up to 20 s for the deliveries, and check
//      each one without oretrace's code: GS1-Signature a detached compact
//      JWS (alg EdDSA, b64 false, crit ["b64"], typ epcis-delivery+jws, sub
//      the subscription, jti = Idempotency-Key) verified with Node's crypto
//      under the /.well-known/jwks.json key named by its kid, over
//      BASE64URL(header) "." body, and NOT over a changed body;
//      GS1-Signature-HMAC = sha256=hex HMAC-SHA256(token, jti LF body); the
//      body an EPCISQueryDocument by the SDK's validator, each event loaded
//      by objectToEvent, queryResults.subscriptionID the subscription's id;
//      the delivered events exactly the new document's ObjectEvents; then
//      DELETE the subscription (204; GET it is then 404). The server must
//      run with --epcis-allow-loopback-dest.
//
// stdout: one JSON line:
//   {"since":..,"captured":[eventID..],
//    "sdkHash":{"asSent":n,"asServed":n,"disagreements":[..]},
//    "all":{"events":n,"pages":n},"byType":{..},"byEpc":{"epc":..,..},
//    "named":{"name":..,"location":..,"events":n,"pages":n},
//    "subscription":null|{"id":..,"captured":[eventID..],"deliveries":n,
//      "distinctDeliveries":n,"delivered":[eventID..],"sdkHashAgrees":n,
//      "verified":true,"hmac":true,"deleted":true}}
// exit 0 only if every check held; 1 otherwise; 2 on bad usage.
//
// Optional environment:
//   EPCIS2JS_POLL_TRIES     how many GETs of a capture job at most (default 5)
//   EPCIS2JS_POLL_DELAY_MS  delay between GETs in ms (default 2000)
//   EPCIS2JS_QUERY_NAME     the named query's name (default epcis2js-<ms>)
//   EPCIS2JS_DUMP=1         write every served event to stderr
//   EPCIS2JS_SUBSCRIBE_DOC  a document to capture for step 6 (without it, no step 6)

import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import epcis from 'epcis2.js';

const {
  setup,
  capture,
  EPCISDocument,
  CaptureResponse,
  defaultSettings,
  validateEpcisDocument,
  objectToEvent,
  eventToHashedId,
} = epcis;

function fail(reason, code = 1) {
  process.stderr.write(`epcis2js query: ${reason}\n`);
  process.exit(code);
}

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n < 0) fail(`${name} must be a non-negative integer, got ${raw}`, 2);
  return n;
}

const [baseUrl, token, ...docPaths] = process.argv.slice(2);
if (!baseUrl || !token || docPaths.length === 0) {
  fail('usage: node query.mjs <baseUrl> <token> <document.jsonld>...', 2);
}
const pollTries = envInt('EPCIS2JS_POLL_TRIES', 5);
const pollDelayMs = envInt('EPCIS2JS_POLL_DELAY_MS', 2000);
const queryName = process.env.EPCIS2JS_QUERY_NAME || `epcis2js-${Date.now()}`;

// setup() replaces settings.headers wholesale, so the SDK's default
// content-type is carried over explicitly (see capture.mjs).
const settings = setup({
  apiUrl: baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
  headers: {
    ...defaultSettings.headers,
    authorization: `Bearer ${token}`,
  },
});

/// The SDK's event hash context: the prefix map of a document's @context.
function prefixes(context) {
  const list = Array.isArray(context) ? context : [context];
  return Object.assign({}, ...list.filter((c) => c && typeof c === 'object'));
}

/// The SDK's CBV 2.0 hash of `event`, or the error it threw.
function sdkHash(event, context) {
  try {
    return eventToHashedId(event, prefixes(context));
  } catch (e) {
    return `<sdk hash failed: ${e.message}>`;
  }
}

// Where the captures start: a whole second (the server may keep record
// times to the second), after the record time of every event already held.
async function start() {
  const latest = await get('events?orderBy=recordTime&orderDirection=DESC&perPage=1');
  if (latest.status !== 200) {
    fail(`GET ${latest.url} answered ${latest.status}: ${JSON.stringify(latest.body).slice(0, 2000)}`);
  }
  const last = latest.body?.epcisBody?.queryResults?.resultsBody?.eventList?.[0]?.recordTime;
  const lastMs = last ? Date.parse(last) : -Infinity;
  for (;;) {
    const second = Math.floor(Date.now() / 1000) * 1000;
    if (second > lastMs) return new Date(second).toISOString();
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 1));
  }
}

/// Captures one document with the SDK (each job finished with success and
/// every event "captured"); returns {eventID, sdk, type, epcs} per event.
async function captureDocument(docPath) {
  const out = [];
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
    response = await capture(document);
  } catch (e) {
    fail(`${docPath}: capture failed before a response: ${e.message}`);
  }
  if (response.status !== 202) {
    fail(`${docPath}: POST capture answered ${response.status}: ${(await response.text()).slice(0, 2000)}`);
  }
  const job = new CaptureResponse(response);
  let lastJob = null;
  const getCaptureJob = job.getCaptureJob.bind(job);
  job.getCaptureJob = async (options) => {
    lastJob = await getCaptureJob(options);
    return lastJob;
  };
  await job.pollForTheCaptureToFinish(pollTries, pollDelayMs);
  if (job.running !== false || job.success !== true) {
    fail(`${docPath}: capture job ${JSON.stringify(lastJob)}`);
  }
  const events = json.epcisBody.eventList;
  const outcomes = lastJob.events ?? [];
  if (outcomes.length !== events.length) {
    fail(`${docPath}: ${events.length} events sent, the job lists ${outcomes.length}`);
  }
  events.forEach((event, i) => {
    const { eventID, status } = outcomes[i];
    if (status !== 'captured') fail(`${docPath}: event ${i} is ${status}, not captured`);
    out.push({
      eventID,
      sdk: sdkHash(event, json['@context']),
      type: event.type,
      epcs: [...(event.epcList ?? []), ...(event.childEPCs ?? [])],
    });
  });
  return out;
}

// 1. Capture, with the SDK.
const since = await start();
const captured = []; // {eventID, sdk, type, epcs}
/// eventID -> the SDK's hash of the event as served.
const servedSdk = new Map();
for (const docPath of docPaths) captured.push(...(await captureDocument(docPath)));
const sdkHashAgrees = captured.filter((e) => e.sdk === e.eventID).length;

// The query interface, with fetch and the SDK's settings.
async function get(path) {
  const url = new URL(path, settings.apiUrl);
  const res = await fetch(url, { headers: settings.headers });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the message
  }
  return { status: res.status, headers: res.headers, body, url: url.href };
}

/// Checks a query document with the SDK and returns its events.
function checkQueryDocument(doc, where, wantName) {
  if (!doc || doc.type !== 'EPCISQueryDocument') {
    fail(`${where}: not an EPCISQueryDocument: ${JSON.stringify(doc).slice(0, 2000)}`);
  }
  try {
    validateEpcisDocument(doc); // the SDK's schema; throws on a violation
  } catch (e) {
    fail(`${where}: the SDK's validator refuses the query document: ${e.message}`);
  }
  const results = doc.epcisBody.queryResults;
  if (wantName !== undefined && results.queryName !== wantName) {
    fail(`${where}: queryName ${JSON.stringify(results.queryName)}, expected ${wantName}`);
  }
  const events = results.resultsBody.eventList ?? [];
  for (const event of events) {
    let entity;
    try {
      entity = objectToEvent(event);
    } catch (e) {
      fail(`${where}: the SDK cannot load event ${event.eventID}: ${e.message}`);
    }
    if (entity.getType() !== event.type) {
      fail(`${where}: the SDK loads ${event.eventID} as ${entity.getType()}, not ${event.type}`);
    }
    // As served: eventID and recordTime added, neither part of the hash.
    servedSdk.set(event.eventID, sdkHash(event, doc['@context']));
    if (process.env.EPCIS2JS_DUMP === '1') process.stderr.write(`served: ${JSON.stringify(event)}\n`);
  }
  return events;
}

/// All pages of a query, following Link rel="next".
async function getAll(path, wantName) {
  const events = [];
  let pages = 0;
  let next = path;
  while (next) {
    pages += 1;
    if (pages > 100) fail(`${path}: more than 100 pages`);
    const res = await get(next);
    if (res.status !== 200) {
      fail(`GET ${res.url} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 2000)}`);
    }
    events.push(...checkQueryDocument(res.body, `GET ${res.url}`, wantName));
    const link = res.headers.get('link');
    const m = link && /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
    next = m ? m[1] : null;
  }
  return { events, pages };
}

async function expectSame(where, got, want) {
  const g = got.map((e) => e.eventID).sort();
  const w = want.map((e) => e.eventID).sort();
  if (JSON.stringify(g) !== JSON.stringify(w)) {
    // For the diagnosis: the latest events' record times.
    const latest = await get('events?orderBy=recordTime&orderDirection=DESC&perPage=5');
    const seen = (latest.body?.epcisBody?.queryResults?.resultsBody?.eventList ?? []).map(
      (e) => `${e.eventID} recordTime ${e.recordTime}`,
    );
    fail(`${where}: got ${JSON.stringify(g)}, expected ${JSON.stringify(w)} (since ${since}; latest: ${seen.join(', ') || JSON.stringify(latest.body).slice(0, 500)})`);
  }
}

const q = (params) => new URLSearchParams(params).toString();

// 2. Everything recorded since the start, two per page.
const all = await getAll(`events?${q({ GE_recordTime: since, perPage: '2' })}`);
await expectSame('all', all.events, captured);

// 3. By event type (pipe-delimited list).
const types = ['ObjectEvent', 'AggregationEvent'];
const byType = await getAll(`events?${q({ GE_recordTime: since, eventType: types.join('|') })}`);
await expectSame('byType', byType.events, captured.filter((e) => types.includes(e.type)));

// 4. By EPC.
const epc = captured.find((e) => e.epcs.length > 0)?.epcs[0];
if (!epc) fail('no captured event names an EPC');
const byEpc = await getAll(`events?${q({ GE_recordTime: since, MATCH_epc: epc })}`);
await expectSame('byEpc', byEpc.events, captured.filter((e) => e.epcs.includes(epc)));

// 5. A named query.
const namedBody = { name: queryName, query: { eventType: ['ObjectEvent'], GE_recordTime: since } };
const created = await fetch(new URL('queries', settings.apiUrl), {
  method: 'POST',
  headers: settings.headers,
  body: JSON.stringify(namedBody),
});
if (created.status !== 201) {
  fail(`POST queries answered ${created.status}: ${(await created.text()).slice(0, 2000)}`);
}
const location = created.headers.get('location');
if (location !== `/queries/${queryName}`) fail(`POST queries: Location ${location}`);
const defined = await get(location);
if (defined.status !== 200) {
  fail(`GET ${location} answered ${defined.status}: ${JSON.stringify(defined.body)}`);
}
const named = await getAll(`queries/${encodeURIComponent(queryName)}/events?perPage=1`, queryName);
await expectSame('named', named.events, captured.filter((e) => e.type === 'ObjectEvent'));

// 6. A subscription to the named query, with a receiver of our own on
// loopback: every delivery is checked here with Node's crypto and the
// SDK alone (the JWK set is the only thing taken from the server).
const subscribeDoc = process.env.EPCIS2JS_SUBSCRIBE_DOC;
let subscription = null;
if (subscribeDoc) subscription = await subscribe(subscribeDoc);

function b64url(text) {
  return Buffer.from(text, 'base64url');
}

async function subscribe(docPath) {
  const signatureToken = `epcis2js-token-${crypto.randomBytes(12).toString('hex')}`;
  const deliveries = []; // {headers, body}
  let wake = () => {};
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
      wake();
    });
  });
  await new Promise((resolve, reject) => {
    receiver.once('error', reject);
    receiver.listen(0, '127.0.0.1', resolve);
  });
  const inboxPath = `/inbox/${crypto.randomBytes(6).toString('hex')}`;
  const dest = `http://127.0.0.1:${receiver.address().port}${inboxPath}`;
  try {
    const subsPath = `queries/${encodeURIComponent(queryName)}/subscriptions`;
    const made = await fetch(new URL(subsPath, settings.apiUrl), {
      method: 'POST',
      headers: settings.headers,
      body: JSON.stringify({ dest, stream: true, signatureToken }),
    });
    const madeText = await made.text();
    if (made.status !== 201) fail(`POST ${subsPath} answered ${made.status}: ${madeText.slice(0, 2000)}`);
    const madeBody = JSON.parse(madeText);
    const subscriptionID = madeBody.subscriptionID;
    if (typeof subscriptionID !== 'string' || subscriptionID === '') {
      fail(`POST ${subsPath}: no subscriptionID in ${madeText.slice(0, 2000)}`);
    }
    const subLocation = made.headers.get('location');
    if (subLocation !== `/queries/${queryName}/subscriptions/${subscriptionID}`) {
      fail(`POST ${subsPath}: Location ${subLocation}`);
    }
    if (JSON.stringify(madeBody).includes(signatureToken)) fail(`POST ${subsPath}: the answer echoes the signatureToken`);

    // One more official example, captured with the SDK after subscribing.
    const fresh = await captureDocument(docPath);
    const want = fresh.filter((e) => e.type === 'ObjectEvent').map((e) => e.eventID).sort();
    if (want.length === 0) fail(`${docPath} has no ObjectEvent for the named query to match`);

    // Wait (up to 20 s) until the deliveries hold every new event.
    const deliveredIds = () => new Set(deliveries.flatMap((d) => {
      try {
        return (JSON.parse(d.body.toString('utf8')).epcisBody?.queryResults?.resultsBody?.eventList ?? []).map((e) => e.eventID);
      } catch {
        return [];
      }
    }));
    const deadline = Date.now() + 20000;
    while (!want.every((id) => deliveredIds().has(id)) && Date.now() < deadline) {
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, 250);
      });
    }
    // A moment more, to see a stray second delivery if there is one.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (deliveries.length === 0) fail(`no delivery to ${dest} within 20 s`);

    // The signing keys, as any receiver gets them.
    const jwksRes = await fetch(new URL('.well-known/jwks.json', settings.apiUrl));
    if (jwksRes.status !== 200) fail(`GET .well-known/jwks.json answered ${jwksRes.status}`);
    const jwks = await jwksRes.json();

    const seenJti = new Set();
    const delivered = [];
    const sdkAgrees = [];
    for (const [n, d] of deliveries.entries()) {
      const where = `delivery ${n + 1} of ${deliveries.length}`;
      if (d.method !== 'POST' || d.url !== inboxPath) fail(`${where}: ${d.method} ${d.url}, expected POST ${inboxPath}`);
      const { body } = d;
      // (a) GS1-Signature: compact JWS, detached unencoded payload.
      const jws = d.headers['gs1-signature'];
      if (typeof jws !== 'string') fail(`${where}: no GS1-Signature header`);
      const parts = jws.split('.');
      if (parts.length !== 3 || parts[1] !== '') fail(`${where}: GS1-Signature is not a detached compact JWS: ${jws}`);
      const [headerB64, , sigB64] = parts;
      let header;
      try {
        header = JSON.parse(b64url(headerB64).toString('utf8'));
      } catch (e) {
        fail(`${where}: the JWS header does not parse: ${e.message}`);
      }
      if (header.alg !== 'EdDSA') fail(`${where}: JWS alg ${header.alg}`);
      if (header.b64 !== false) fail(`${where}: JWS b64 ${JSON.stringify(header.b64)}, expected false`);
      if (JSON.stringify(header.crit) !== '["b64"]') fail(`${where}: JWS crit ${JSON.stringify(header.crit)}`);
      if (header.typ !== 'epcis-delivery+jws') fail(`${where}: JWS typ ${header.typ}`);
      if (header.sub !== subscriptionID) fail(`${where}: JWS sub ${header.sub}, expected ${subscriptionID}`);
      if (typeof header.jti !== 'string' || header.jti === '') fail(`${where}: JWS jti ${JSON.stringify(header.jti)}`);
      if (d.headers['idempotency-key'] !== header.jti) {
        fail(`${where}: Idempotency-Key ${d.headers['idempotency-key']}, JWS jti ${header.jti}`);
      }
      if (seenJti.has(header.jti)) continue; // a retry of a delivery already taken
      seenJti.add(header.jti);
      const jwk = (jwks.keys ?? []).find((k) => k.kid === header.kid);
      if (!jwk) fail(`${where}: JWS kid ${header.kid} is not in /.well-known/jwks.json`);
      const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
      const signature = b64url(sigB64);
      const signed = (bytes) => Buffer.concat([Buffer.from(`${headerB64}.`), bytes]);
      if (!crypto.verify(null, signed(body), key, signature)) fail(`${where}: the JWS does not verify over the body`);
      const changed = Buffer.from(body);
      changed[changed.length - 1] ^= 0x01;
      if (crypto.verify(null, signed(changed), key, signature)) fail(`${where}: the JWS verifies over a changed body`);
      if (crypto.verify(null, signed(Buffer.concat([body, Buffer.from(' ')])), key, signature)) {
        fail(`${where}: the JWS verifies over a longer body`);
      }
      // (b) GS1-Signature-HMAC over jti, a line feed, then the body.
      const hmac = (bytes) => `sha256=${crypto.createHmac('sha256', signatureToken).update(`${header.jti}\n`).update(bytes).digest('hex')}`;
      if (d.headers['gs1-signature-hmac'] !== hmac(body)) {
        fail(`${where}: GS1-Signature-HMAC ${d.headers['gs1-signature-hmac']}, expected ${hmac(body)}`);
      }
      if (hmac(changed) === hmac(body)) fail(`${where}: the HMAC does not depend on the body`);
      // (c) the body, with the SDK.
      let doc;
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch (e) {
        fail(`${where}: the body is not JSON: ${e.message}`);
      }
      const events = checkQueryDocument(doc, where, queryName);
      // (d) the subscription it is for.
      if (doc.epcisBody.queryResults.subscriptionID !== subscriptionID) {
        fail(`${where}: subscriptionID ${doc.epcisBody.queryResults.subscriptionID}, expected ${subscriptionID}`);
      }
      for (const event of events) {
        delivered.push(event.eventID);
        if (sdkHash(event, doc['@context']) === event.eventID) sdkAgrees.push(event.eventID);
      }
    }
    const got = [...delivered].sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      fail(`subscription: delivered ${JSON.stringify(got)}, expected exactly the new ${JSON.stringify(want)}`);
    }

    // Ended by its owner.
    const ended = await fetch(new URL(subLocation.replace(/^\//, ''), settings.apiUrl), {
      method: 'DELETE',
      headers: settings.headers,
    });
    if (ended.status !== 204) fail(`DELETE ${subLocation} answered ${ended.status}: ${(await ended.text()).slice(0, 2000)}`);
    const gone = await get(subLocation.replace(/^\//, ''));
    if (gone.status !== 404) fail(`GET ${subLocation} after DELETE answered ${gone.status}`);

    return {
      id: subscriptionID,
      captured: fresh.map((e) => e.eventID),
      deliveries: deliveries.length,
      distinctDeliveries: seenJti.size,
      delivered,
      sdkHashAgrees: sdkAgrees.length,
      verified: true,
      hmac: true,
      deleted: true,
    };
  } finally {
    receiver.close();
  }
}

process.stdout.write(
  `${JSON.stringify({
    since,
    captured: captured.map((e) => e.eventID),
    // The SDK's CBV 2.0 hash (eventToHashedId) against the server's eventID:
    // how many agree for the events as sent and as served, and the rest.
    sdkHash: {
      asSent: sdkHashAgrees,
      asServed: captured.filter((e) => servedSdk.get(e.eventID) === e.eventID).length,
      disagreements: captured
        .filter((e) => e.sdk !== e.eventID || servedSdk.get(e.eventID) !== e.eventID)
        .map((e) => ({ eventID: e.eventID, type: e.type, asSent: e.sdk, asServed: servedSdk.get(e.eventID) })),
    },
    all: { events: all.events.length, pages: all.pages },
    byType: { types, events: byType.events.length, pages: byType.pages },
    byEpc: { epc, events: byEpc.events.length, pages: byEpc.pages },
    named: { name: queryName, location, events: named.events.length, pages: named.pages },
    subscription,
  })}\n`,
);
process.exit(0);
