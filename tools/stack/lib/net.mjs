// TCP probes used to refuse starting a server on a port something else already holds.
import { connect } from 'node:net';

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
