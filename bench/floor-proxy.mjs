// The floor for a Node gateway: a minimal pass-through proxy with no parsing, validation, routing or logging.
// A node:http server forwards each request's method, path and body to the upstream through one undici Pool and pipes
// the upstream's status, headers and body straight back. Whatever a real gateway costs on top of this is its own.
//
//   node bench/floor-proxy.mjs --port 8082 --upstream http://127.0.0.1:9000
//
// Prints `floor-proxy listening on http://127.0.0.1:<port>` when ready; exits on SIGTERM/SIGINT.
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8082' }, upstream: { type: 'string', default: 'http://127.0.0.1:9000' } } });
const upstream = new URL(values.upstream);
// Same pool shape as Breakwater's upstream client (src/providers/http-client.ts): keep-alive, no pipelining.
const pool = new Pool(upstream.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

// Hop-by-hop headers are the connection's own, not the message's (RFC 9110 §7.6.1): never forwarded.
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardable(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) if (!hopByHop.has(name) && value !== undefined) out[name] = value;
  return out;
}

const server = http.createServer(async (req, res) => {
  try {
    const upstreamResponse = await pool.request({
      path: req.url,
      method: req.method,
      headers: forwardable(req.headers),
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req, // the request body is streamed, not buffered
    });
    res.writeHead(upstreamResponse.statusCode, forwardable(upstreamResponse.headers));
    await pipeline(upstreamResponse.body, res);
  } catch (error) {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `floor-proxy: ${error.message}`, type: 'upstream_error' } }));
    } else res.destroy();
  }
});
server.keepAliveTimeout = 65_000;

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`floor-proxy listening on http://127.0.0.1:${server.address().port}`);
});

function stop() {
  server.close();
  server.closeAllConnections();
  pool.destroy().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
