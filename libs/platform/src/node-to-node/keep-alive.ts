/**
 * How long a node's HTTP server keeps an idle connection open (Node's own default, set
 * explicitly so that the clients below are measured against it).
 */
export const SERVER_KEEP_ALIVE_MS = 5_000;

/**
 * How long a node keeps an idle connection to another node: below the peer's
 * SERVER_KEEP_ALIVE_MS, so the client closes first and never sends a request on a connection the
 * server is closing at that moment (which fails with ECONNRESET). The balancer uses the same margin.
 */
export const PEER_IDLE_MS = SERVER_KEEP_ALIVE_MS - 1_000;
