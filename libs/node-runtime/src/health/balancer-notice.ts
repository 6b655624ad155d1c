import { Injectable, type OnModuleInit } from '@nestjs/common';
import { NodeDrain } from '@quarry/platform';

/** A peer that asked /health this recently before the node began to leave is taken for a balancer checking it. */
const CHECKER_WINDOW_MS = 5000;
/** Leaving answers a checker gets before it is taken to have seen them (HAProxy's and the Node balancer's `fall`). */
const ANSWERS_TO_NOTICE = 2;
/** The longest a leaving node waits for its checkers (the balancers check every 2 s, again 100 ms after a failure). */
const NOTICE_WAIT_MS = 3000;
/** Peers remembered at most before those silent past the window are forgotten (anyone may ask /health). */
const MAX_PEERS = 1000;

/**
 * A drain step: the node goes on serving until the balancers that check its /health have seen it
 * answer "leaving" often enough to take it out of their rotation, so that none still sends it
 * requests when it closes its connections (a request reset there is a client's error to retry).
 * A node whose /health nobody asked lately has no balancer to wait for; a checker that stops
 * asking is waited for NOTICE_WAIT_MS at most, and never past the drain's deadline.
 */
@Injectable()
export class BalancerNotice implements OnModuleInit {
  /** Per peer address: when it last asked /health, and how many leaving answers it got. */
  private readonly peers = new Map<string, { askedAt: number; leavingAnswers: number }>();
  private checkers?: Set<string>;
  private noticed?: () => void;

  constructor(private readonly drain: NodeDrain) {}

  onModuleInit(): void {
    // Last of the drain: work that takes longer has given the balancers their time already.
    this.drain.add('balancers see the node leaving', 'results', (deadline) => this.waitForCheckers(deadline));
  }

  /** Told of every /health answer. */
  answered(peer: string | undefined, leaving: boolean): void {
    const key = peer ?? '';
    const seen = this.peers.get(key) ?? { askedAt: 0, leavingAnswers: 0 };
    seen.askedAt = Date.now();
    if (leaving) seen.leavingAnswers++;
    this.peers.set(key, seen);
    if (this.peers.size > MAX_PEERS) this.forgetOlderThan(Date.now() - CHECKER_WINDOW_MS);
    if (this.checkers && this.allNoticed()) this.noticed?.();
  }

  private async waitForCheckers(deadline: number): Promise<void> {
    const since = Date.now() - CHECKER_WINDOW_MS;
    this.checkers = new Set([...this.peers].filter(([, seen]) => seen.askedAt >= since).map(([peer]) => peer));
    if (this.allNoticed()) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, Math.min(NOTICE_WAIT_MS, deadline - Date.now())));
      this.noticed = () => (clearTimeout(timer), resolve());
    });
  }

  private forgetOlderThan(time: number): void {
    for (const [peer, seen] of this.peers) if (seen.askedAt < time) this.peers.delete(peer);
  }

  private allNoticed(): boolean {
    return [...(this.checkers ?? [])].every((peer) => (this.peers.get(peer)?.leavingAnswers ?? 0) >= ANSWERS_TO_NOTICE);
  }
}
