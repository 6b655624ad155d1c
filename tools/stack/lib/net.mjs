// TCP probes used to refuse starting a server on a port something else already holds.
import { connect, createServer } from 'node:net';

/** Resolves true when something accepts TCP connections on host:port within `timeoutMs`. */
export function tcpAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    const finish = (answered) => {
      socket.destroy();
      resolvePromise(answered);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** A port nothing listens on now on `host` (the OS picks it), for a server that cannot be told to pick one. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}
