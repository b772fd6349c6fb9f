#!/usr/bin/env bash
# API robustness: PyPI schemathesis (4.x, pinned in requirements.txt, in
# .venv/api) against the server's own /openapi.json, every check on
# (\`[checks] enabled = true\`): no 5xx, every refusal an RFC 7807 problem, every
# response as the document says, schema-valid requests accepted and
# schema-violating ones refused.
#
# Starts `oretrace demo` (the reference scenario, served) from the binary
# the tests built (ORETRACE_BIN, default $CARGO_TARGET_DIR or target, then
# debug/oretrace; it never builds), gets a bearer token for a demo party,
# gives real identifiers for the path parameters that only answer 404
# otherwise, and runs a bounded number of examples per operation
# (SCHEMATHESIS_EXAMPLES, default 10). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
venv=.venv/api
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! cmp -s tests/api/requirements.txt "$venv/.requirements"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/api/requirements.txt
  cp tests/api/requirements.txt "$venv/.requirements"
fi
bin=${ORETRACE_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/oretrace}
if [ ! -x "$bin" ]; then
  echo "tests/api/schemathesis.sh: no oretrace binary at $bin (run the cargo tests first, or set ORETRACE_BIN)" >&2
  exit 2
fi
examples=${SCHEMATHESIS_EXAMPLES:-10}
py="$venv/bin/python"

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Load first (the demo captures its EPCIS documents through the server),
# then serve the loaded data.
"$bin" demo --data "$work/data" --no-serve >"$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; exit 1; }
RUST_LOG=warn "$bin" demo --data "$work/data" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  if "$py" -c "import urllib.request,sys; urllib.request.urlopen('$base/healthz', timeout=1)" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.1
done

token=$("$bin" auth token --server "$base" --key "$work/data/keys/fwo_key-1.key")

# Real identifiers from the demo data, and one capture job and one named
# query to find.
eval "$("$py" - "$base" "$token" <<'EOF'
import json, sys, time, urllib.parse, urllib.request, uuid
base, token = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.headers, response.read()
get = lambda path: json.loads(call("GET", path)[1])
events = get("/events?perPage=1")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
event = events[0]
document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2025-01-01T00:00:00Z",
    "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        "eventID": "urn:uuid:" + str(uuid.uuid4())}]}}
headers, _ = call("POST", "/capture", document)
# An event whose id needs no escaping in a path, for the official
# document's /events/{eventID} (a URI, which schemathesis writes as is).
for _ in range(100):
    if not json.loads(call("GET", headers["Location"])[1])["running"]:
        break
    time.sleep(0.1)
call("POST", "/queries", {"name": "harness", "query": {"eventType": ["ObjectEvent"]}})
values = {
    "PARTY": get("/parties")["parties"][0]["id"],
    "SITE": get("/sites")["sites"][0]["id"],
    "LOT": get("/lots")["lots"][0]["id"],
    "EVENT": urllib.parse.quote(event["eventID"], safe=""),
    "EVENT_ID": document["epcisBody"]["eventList"][0]["eventID"],
    "EPC": (event.get("epcList") or [e["epcClass"] for e in event.get("quantityList", [])] or ["urn:epc:id:sgtin:0614141.107346.2017"])[0],
    "CAPTURE": headers["Location"].rsplit("/", 1)[1],
    "RECORD_HASH": get("/records/0")["record_hash"],
    "BIZ_LOCATION": (get("/bizLocations")["member"] or ["urn:oretrace:site:none"])[0],
    "BIZ_STEP": (get("/bizSteps")["member"] or ["shipping"])[0],
    "DISPOSITION": (get("/dispositions")["member"] or ["in_transit"])[0],
}
for name, value in values.items():
    print(f"{name}={json.dumps(value)}")
EOF
)"

cat >"$work/schemathesis.toml" <<EOF
# Every check (the command line's --checks would override the per-operation
# settings below, so the config turns them all on instead).
[checks]
enabled = true

[parameters]
"path.hash" = "$RECORD_HASH"
"path.name" = "harness"
"path.epc" = "$EPC"

[[operations]]
include-path = "/parties/{id}"
parameters = { "path.id" = "$PARTY" }

[[operations]]
include-path = "/sites/{id}"
parameters = { "path.id" = "$SITE" }

[[operations]]
include-path = "/lots/{id}"
parameters = { "path.id" = "$LOT" }

[[operations]]
include-path = "/events/{id}"
parameters = { "path.id" = "$EVENT" }

# A signed record, an EPCIS document, event, query or subscription is
# judged by what no schema in the document states: signatures over
# canonical bytes, GS1's EPCIS JSON Schemas, the domain's rules, a
# subscription's schedule grammar, its start at most 30 days back and its
# quota, and the registry's state. Schema-valid bodies are
# refused with 400 (a rule, named), 401 (signatures), 403 (custody), 409
# (replay) or 422 (the registry's state), each documented.
[[operations]]
include-name = ["POST /records", "POST /capture", "POST /events", "POST /queries", "POST /queries/{name}/subscriptions"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "409", "422"]

[[operations]]
include-path = "/capture/{id}"
parameters = { "path.id" = "$CAPTURE" }

# Page tokens are stateless: nothing to invalidate, 501 as the EPCIS
# binding allows (docs/design/epcis-conformance.md, D11).
[[operations]]
include-name = "DELETE /nextPageToken/{token}"
checks.not_a_server_error.enabled = false
EOF

# The named query is deleted by DELETE /queries/{name}; the stateful phase
# is left out (it would chain deletes and creates of the same name).
# Run from the scratch directory: schemathesis keeps a cache in its
# working directory. One worker: with two, CPython 3.11's parser can fail
# inside hypothesis ("AST constructor recursion depth mismatch").
set +e
(cd "$work" && SCHEMATHESIS_HOOKS="$root/tests/api/hooks.py" "$root/$venv/bin/schemathesis" \
  --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
  --max-examples "$examples" --seed 1 --workers 1 \
  --phases examples,coverage,fuzzing \
  --header "Authorization: Bearer $token" \
  --request-timeout 10 --no-color --suppress-health-check all \
  ${SCHEMATHESIS_ARGS:-})
status=$?
set -e
if [ $status -ne 0 ]; then
  echo "tests/api/schemathesis.sh: schemathesis found failures against /openapi.json (exit $status)" >&2
fi

# The EPCIS 2.0 binding: the same server against GS1's own OpenAPI
# document, every check on, each deliberate deviation skipped by
# operation and check name as docs/design/epcis-conformance.md lists it.
# SCHEMATHESIS_BINDING=0 leaves this stage out.
if [ "${SCHEMATHESIS_BINDING:-1}" = 0 ]; then
  exit $status
fi
official="${ORETRACE_CONFORMANCE_DIR:-$root/../shared/conformance}/epcis/schema/epcis-rest-openapi.yaml"
binding_examples=${SCHEMATHESIS_BINDING_EXAMPLES:-5}
sed -e "s|@EVENT_ID@|$EVENT_ID|" -e "s|@EPC@|$EPC|" -e "s|@CAPTURE@|$CAPTURE|" \
  -e "s|@BIZ_LOCATION@|$BIZ_LOCATION|" -e "s|@BIZ_STEP@|$BIZ_STEP|" \
  -e "s|@DISPOSITION@|$DISPOSITION|" \
  "$root/tests/api/epcis-binding.toml" >"$work/epcis-binding.toml"
set +e
(cd "$work" && SCHEMATHESIS_HOOKS="$root/tests/api/hooks.py" "$root/$venv/bin/schemathesis" \
  --config-file "$work/epcis-binding.toml" run "$official" --url "$base" \
  --max-examples "$binding_examples" --seed 1 --workers 1 \
  --phases examples,coverage,fuzzing \
  --header "Authorization: Bearer $token" \
  --request-timeout 10 --no-color --suppress-health-check all \
  ${SCHEMATHESIS_BINDING_ARGS:-})
binding=$?
set -e
if [ $binding -ne 0 ]; then
  echo "tests/api/schemathesis.sh: schemathesis found failures against the official EPCIS 2.0 document (exit $binding)" >&2
  [ $status -ne 0 ] || status=$binding
fi
exit $status
