import { randomUUID } from 'node:crypto';
import { NodeDown, NodeJoined, NodeLeft, type QuarryEvent } from '@quarry/contracts';
import { folder } from '@quarry/testing';
import { incarnationEnded } from './incarnation-ended';

describe('incarnationEnded', () => {
  const [first, second] = [randomUUID(), randomUUID()];
  const joined = (incarnation: string) => NodeJoined.create({ nodeId: 'L2', incarnation, httpUrl: 'http://127.0.0.1:3002', services: ['session'] });
  const history = folder<QuarryEvent[]>('node-L2', (events, event) => [...events, event]);

  it('is false for an incarnation that only joined, even after an earlier one left', () => {
    const events = history([], [joined(first), NodeLeft.create({ nodeId: 'L2', incarnation: first }), joined(second)]);
    expect(incarnationEnded(events, second)).toBe(false);
    expect(incarnationEnded([], second)).toBe(false);
  });

  it('is true once the incarnation left or was declared down', () => {
    const left = history([], [joined(first), NodeLeft.create({ nodeId: 'L2', incarnation: first })]);
    const down = history([], [joined(first), NodeDown.create({ nodeId: 'L2', incarnation: first, detectedBy: 'L1', lastHeartbeatAt: new Date().toISOString() })]);
    expect([incarnationEnded(left, first), incarnationEnded(down, first)]).toEqual([true, true]);
  });
});
