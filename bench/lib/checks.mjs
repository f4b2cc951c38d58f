// Correctness before speed: a server under test must give the client what the upstream gave. For one non-streaming
// and one streaming request, the body through the server is compared byte for byte with a body fetched from the
// simulator directly. The simulator's content is deterministic, but each response carries a fresh id (a per-process
// sequence number) and a `created` time in seconds, so those two are the only differences expected; anything else
// is reported with the first differing line.

/** Rewrites applied in order; the first after which the bodies match says what the difference was. */
const explanations = [
  {
    label: 'only the per-response id and created time differ (expected: a new response each time)',
    apply: (text) => text.replace(/"id":"chatcmpl-sim-[0-9a-f]+"/g, '"id":"<id>"').replace(/"created":\d+/g, '"created":0'),
  },
  {
    label: 'also `"usage":null` added to every stream chunk (the server asked the upstream for stream usage)',
    apply: (text) => text.replace(/,"usage":null/g, ''),
  },
];

function firstDifference(a, b) {
  const linesA = a.split('\n');
  const linesB = b.split('\n');
  let differing = 0;
  let first;
  for (let i = 0; i < Math.max(linesA.length, linesB.length); i++) {
    if (linesA[i] !== linesB[i]) {
      differing++;
      first ??= i;
    }
  }
  if (first === undefined) return undefined;
  const clip = (line) => (line === undefined ? '(no line)' : line.length > 240 ? `${line.slice(0, 240)}…` : line);
  return { differingLines: differing, totalLines: Math.max(linesA.length, linesB.length), line: first + 1, upstream: clip(linesA[first]), server: clip(linesB[first]) };
}

/** Compares a server's body with the upstream's: identical as bytes, or identical after which rewrite, or not. */
export function compareBodies(upstreamBody, serverBody) {
  if (upstreamBody === serverBody) return { verdict: 'identical', byteIdentical: true };
  let a = upstreamBody;
  let b = serverBody;
  const steps = [];
  for (const explanation of explanations) {
    a = explanation.apply(a);
    b = explanation.apply(b);
    steps.push(explanation.label);
    if (a === b) return { verdict: steps.at(-1), byteIdentical: false, explainedBy: [...steps] };
  }
  // Unexplained: show the first difference of the raw bodies after the id/created rewrite.
  const normalizedA = explanations[0].apply(upstreamBody);
  const normalizedB = explanations[0].apply(serverBody);
  return { verdict: 'DIFFERENT', byteIdentical: false, difference: firstDifference(normalizedA, normalizedB), upstreamBytes: upstreamBody.length, serverBytes: serverBody.length };
}

async function post(url, headers, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

/**
 * Runs the check for one server: `bodies` is { nonStream, stream }, `upstreamUrl`/`serverUrl` the full
 * /v1/chat/completions URLs, `serverHeaders` the extra request headers that server needs.
 */
export async function checkServer(upstreamUrl, serverUrl, serverHeaders, bodies) {
  const results = {};
  for (const [mode, body] of Object.entries(bodies)) {
    const direct = await post(upstreamUrl, {}, body);
    const through = await post(serverUrl, serverHeaders, body);
    results[mode] = {
      status: through.status,
      upstreamContentType: direct.contentType,
      serverContentType: through.contentType,
      ...(through.status === 200 ? compareBodies(direct.body, through.body) : { verdict: `HTTP ${through.status}: ${through.body.slice(0, 300)}`, byteIdentical: false }),
    };
  }
  return results;
}
