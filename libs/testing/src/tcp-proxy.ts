import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Transform } from 'node:stream';

/**
 * A TCP pass-through a test can cut and restore, to make a dependency (PostgreSQL) really go
 * away for a node and come back, without stopping the server other tests use. It can also reset
 * every reused connection (`resetReusedConnections`), as a server does that closes a kept-alive
 * connection just as the client sends its next request on it.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private resettingReused = false;
  private resets = 0;

  private boundPort = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    proxy.boundPort = await proxy.listen(0);
    return proxy;
  }

  /** Stays the same across cut() and restore(), so clients reconnect to the same address. */
  get port(): number {
    return this.boundPort;
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  close(): Promise<void> {
    return this.cut();
  }

  /**
   * While on, a connection that has had an answer and then carries more client bytes (a request on
   * a reused keep-alive connection) is reset (RST) before any of those bytes reach the target.
   */
  resetReusedConnections(on: boolean): void {
    this.resettingReused = on;
  }

  /** How many connections `resetReusedConnections` has reset so far. */
  get resetCount(): number {
    return this.resets;
  }

  private listen(port: number): Promise<number> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      let answered = false;
      upstream.on('data', () => (answered = true));
      const gate = new Transform({
        transform: (chunk: Buffer, _encoding, done) => {
          if (!(this.resettingReused && answered)) return done(null, chunk);
          this.resets++;
          client.resetAndDestroy();
          upstream.destroy();
          done();
        },
      });
      client.pipe(gate).pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  }
}
