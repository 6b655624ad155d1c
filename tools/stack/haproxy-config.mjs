// The HAProxy configuration that does what tools/stack/balancer.mjs does (ADR 15): strict round
// robin over the nodes that pass GET /health, kept-alive connections to them, the same refusals
// (absolute-form targets 400, /internal/ paths 404, node-only headers dropped) and X-Forwarded-For.
import { defaults, parseBackendEntry } from './balancer.mjs';

// The Node balancer's answers, so a client sees the same JSON bodies whichever balancer runs (but for
// targets HAProxy's own parser refuses first, such as an absolute form whose host differs from the
// Host header: 400 with HAProxy's page).
const refusals = {
  absoluteForm: 'absolute-form request targets are refused; send the path only',
  badTarget: 'bad request target',
  internal: 'no such route',
};

/**
 * The configuration text for `haproxy -db -f <file>`. `backends` are `http://host:port` URLs;
 * the options are the Node balancer's (balancer.mjs `defaults`).
 */
export function haproxyConfig({ host = '127.0.0.1', port, backends, ...options }) {
  const { healthIntervalMs, healthTimeoutMs, unhealthyAfter, responseTimeoutMs } = { ...defaults, ...options };
  if (!Number.isInteger(port) || port < 1) throw new Error(`haproxy needs a port chosen in advance, got ${port}`);
  const servers = backends.map(server);
  const routed = servers.filter((s) => s.id !== undefined);
  return [
    'global',
    // One thread: a few tens of thousands of requests per second, and no second core taken from the nodes.
    '  nbthread 1',
    // Buffers of 64 KiB, not 16: a 1 MB result page crosses in a quarter of the reads and writes
    // (about 40% less CPU a page, measured); a buffer is taken only while a transfer needs it.
    '  tune.bufsize 65536',
    // Only failed requests (5xx, cut connections) are logged; node state changes print as [WARNING] lines.
    '  log stderr format raw daemon err',
    '',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  option dontlog-normal',
    '  option dontlognull',
    '  option log-separate-errors',
    '  timeout connect 5s',
    `  timeout client ${Math.max(60_000, responseTimeoutMs)}ms`,
    // Inactivity on the node's side: for headers as in the Node balancer, but also between body chunks.
    `  timeout server ${responseTimeoutMs}ms`,
    '  timeout http-request 60s',
    // A client's idle connection is closed after 6 s, as the Node balancer's (and the nodes') HTTP
    // server does while announcing 5 s (Keep-Alive: timeout=5): a client trusting the 5 s never races it.
    '  timeout http-keep-alive 6s',
    `  timeout check ${healthTimeoutMs}ms`,
    jsonError(502, 'no backend answered'),
    jsonError(503, 'no backend available'),
    jsonError(504, `no response headers within ${responseTimeoutMs} ms`),
    '',
    'frontend quarry',
    `  bind ${host}:${port}`,
    '  http-request del-header x-quarry-forwarded-by',
    '  http-request del-header x-quarry-cluster-secret',
    // The node ids pages can be routed to (ADR 21); set-header replaces a client's copy.
    routed.length > 0 ? `  http-request set-header x-quarry-balancer-routes ${routed.map((s) => s.id).join(',')}` : '  http-request del-header x-quarry-balancer-routes',
    // An absolute-form target names a host; a node must never be led to act on a host a client chose.
    `  http-request return status 400 content-type application/json string '${json(refusals.absoluteForm)}' if { url_reg -i ^[a-z][a-z0-9+.-]*:// }`,
    `  http-request return status 400 content-type application/json string '${json(refusals.badTarget)}' if !{ url_beg / } !{ url * }`,
    // /internal/ whatever the spelling: case, `//`, percent-encoding; a path with a dot segment is
    // refused whenever any segment is `internal` (HAProxy 2.6 resolves `..` only experimentally).
    '  acl internal_path path,url_dec,lower -m reg ^/+internal(/|$)',
    '  acl internal_segment path,url_dec,lower -m reg (^|/)internal(/|$)',
    '  acl dot_segment path,url_dec -m reg (^|/)\\.\\.?(/|$)',
    `  http-request return status 404 content-type application/json string '${json(refusals.internal)}' if internal_path || dot_segment internal_segment`,
    '  option forwardfor',
    '  default_backend nodes',
    '',
    'backend nodes',
    '  balance roundrobin',
    // Kept-alive connections to the nodes are shared by all clients, as the Node balancer's agent does.
    '  http-reuse always',
    // A request that reached no node goes to the next one; a body-less one also when a kept-alive
    // connection closed under it before any answer. Nothing with a body is sent twice.
    '  retries 2',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
    '  http-request disable-l7-retry if { req.hdr_cnt(transfer-encoding) gt 0 } || { req.hdr_val(content-length) gt 0 }',
    // A page a node sent back for its holder goes there; a holder that is down is skipped (round robin).
    ...routed.map((s) => `  use-server ${s.name} if { urlp(quarry.holder) -m str ${s.id} }`),
    // The later pages of that result go there at once: one 307 a result, not one a page. A node
    // that no longer holds it sends the next page back again, which stores the new holder.
    ...(routed.length > 0 ? resultHolderMemory : []),
    '  option httpchk GET /health',
    '  http-check expect status 200',
    // HAProxy counts the interval from the end of a check, the Node balancer from its start: after a
    // first failure the next check comes soon, so a frozen node leaves within ~4 s in both.
    // Nodes close a connection idle for 6 s; a request sent on it just then is lost (HAProxy closes
    // the client's connection without an answer). HAProxy 2.6 has no idle timeout for server
    // connections, only this purge: every 500 ms it closes half of those no longer needed, so a
    // burst's connections are gone within a few seconds, as the Node balancer closes its at 4 s.
    `  default-server inter ${healthIntervalMs}ms fastinter ${Math.min(healthIntervalMs, 100)}ms fall ${unhealthyAfter} rise 1 pool-purge-delay 500ms`,
    ...servers.map((s) => `  server ${s.name} ${s.address} check`),
    // With every node out, still try them all (a slow answer is better than none): unchecked copies
    // that HAProxy uses only when no checked server is up.
    '  option allbackups',
    ...servers.map((s) => `  server ${s.name}-fallback ${s.address} backup`),
    '',
  ].join('\n');
}

/** The results' holders, by query handle (the 5th field of /lensapi/queryapi/queries/<handle>/resultset). */
const resultHolderMemory = [
  '  stick-table type string len 64 size 100k expire 10m',
  '  acl result_page path_end /resultset',
  '  stick match path,field(5,/) if result_page',
  '  stick store-request path,field(5,/) if result_page { urlp(quarry.holder) -m found }',
];

/**
 * A backend `[<node id>=]http://host:port`: its `host:port`, and its server name, the node id when
 * given (use-server routes on it), else the address (HAProxy allows `.` and `:` in names).
 */
function server(entry) {
  const { id, address } = parseBackendEntry(entry);
  const url = new URL(address);
  if (url.protocol !== 'http:' || !url.port) throw new Error(`Unsupported backend ${entry}: only http://host:port is supported`);
  const hostPort = `${url.hostname}:${url.port}`;
  return { id, name: id ?? hostPort, address: hostPort };
}

function json(error) {
  // Inside HAProxy's single quotes nothing is interpreted; the texts have no single quote.
  return JSON.stringify({ error });
}

function jsonError(status, error) {
  return `  http-error status ${status} content-type application/json string '${json(error)}'`;
}
