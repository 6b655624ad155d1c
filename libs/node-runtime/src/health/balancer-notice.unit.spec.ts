import { NodeDrain } from '@quarry/platform';
import pino from 'pino';
import { BalancerNotice } from './balancer-notice';

describe('BalancerNotice (the drain waits for the balancers checking /health to see the node leaving)', () => {
  let drain: NodeDrain;
  let notice: BalancerNotice;
  let done: boolean;

  beforeEach(() => {
    jest.useFakeTimers();
    drain = new NodeDrain(10_000, pino({ level: 'silent' }));
    notice = new BalancerNotice(drain);
    notice.onModuleInit();
    done = false;
  });

  afterEach(() => jest.useRealTimers());

  const leave = () => void drain.run().then(() => (done = true));
  const settle = () => jest.advanceTimersByTimeAsync(0);

  it('ends at once when nobody asked /health lately', async () => {
    notice.answered('10.0.0.9', false);
    await jest.advanceTimersByTimeAsync(6000);
    leave();
    await settle();
    expect(done).toBe(true);
  });

  it('ends once each recent checker got two leaving answers', async () => {
    notice.answered('10.0.0.1', false);
    notice.answered('10.0.0.2', false);
    leave();
    await settle();
    notice.answered('10.0.0.1', true);
    notice.answered('10.0.0.1', true);
    notice.answered('10.0.0.2', true);
    await settle();
    expect(done).toBe(false);
    notice.answered('10.0.0.2', true);
    await settle();
    expect(done).toBe(true);
  });

  it('waits 3 s at most for a checker that stops asking', async () => {
    notice.answered('10.0.0.1', false);
    leave();
    notice.answered('10.0.0.1', true);
    await jest.advanceTimersByTimeAsync(2999);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
  });
});
