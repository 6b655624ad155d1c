import { KafkajsRequestQueue, REQUEST_TIMEOUT_CHECK_MS, stopIdleRequestQueueLoop } from './idle-request-queue';

/** What the test touches of kafkajs's own RequestQueue (real code, its socket left out). */
interface Queue {
  push(request: unknown): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
  scheduleRequestTimeoutCheck(): void;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
}

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe("kafkajs 2.2.4's request queue, idle", () => {
  const queues: Queue[] = [];
  const sent: number[] = [];
  const queue = (maxInFlightRequests: number | null = null, enforceRequestTimeout = false) => {
    const Ctor = KafkajsRequestQueue as unknown as new (options: object) => Queue;
    const made = new Ctor({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout, clientId: 'test', broker: 'broker:9092', logger: quiet });
    queues.push(made);
    return made;
  };
  const rejected: number[] = [];
  const request = (correlationId: number) => ({
    entry: { correlationId, apiKey: 1, apiName: 'Fetch', apiVersion: 11, resolve: () => undefined, reject: () => rejected.push(correlationId) },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  });
  const answer = (correlationId: number) => ({ correlationId, payload: null, size: 0 });

  /** Runs every timer armed now (and only those): a loop shows as a timer armed again. */
  const idleFor = () => jest.runOnlyPendingTimers();

  beforeAll(() => stopIdleRequestQueueLoop());
  beforeEach(() => {
    sent.length = 0;
    rejected.length = 0;
    jest.useFakeTimers();
  });
  afterEach(() => {
    queues.splice(0).forEach((q) => q.destroy());
    jest.useRealTimers();
  });

  it('is the version the patch is for', () => {
    expect(KafkajsRequestQueue).toBeDefined();
  });

  it('arms no timer once a request is answered and nothing waits (kafkajs#1556: a 1 ms loop for ever)', () => {
    const q = queue();
    q.push(request(1));
    expect(sent).toEqual([1]);
    q.fulfillRequest(answer(1));
    idleFor();
    idleFor();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request that had to wait (in-flight limit), as soon as the one before is answered', () => {
    const q = queue(1);
    q.push(request(1));
    q.push(request(2));
    expect(sent).toEqual([1]);
    q.fulfillRequest(answer(1));
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest(answer(2));
    idleFor();
    idleFor();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still checks again for a request held back by a throttle', () => {
    const q = queue();
    q.maybeThrottle(60_000);
    q.push(request(1));
    expect(sent).toEqual([]);
    expect(q.pending).toHaveLength(1);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    jest.advanceTimersByTime(60_000);
    expect(sent).toEqual([1]);
  });

  it('looks for requests past their timeout once a second, not every 100 ms, and still times them out', () => {
    const q = queue(null, true);
    q.scheduleRequestTimeoutCheck();
    q.push({ ...request(1), requestTimeout: 30_500 });
    expect(jest.getTimerCount()).toBe(1);
    // kafkajs's own look every 100 ms would have timed it out at 30.6 s.
    jest.advanceTimersByTime(30_900);
    expect(rejected).toEqual([]);
    jest.advanceTimersByTime(REQUEST_TIMEOUT_CHECK_MS);
    expect(rejected).toEqual([1]);
  });
});
