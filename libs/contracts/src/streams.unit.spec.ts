import { familyOf, streamId, topicFor } from './streams';

describe('streams', () => {
  it('builds stream ids that carry their family', () => {
    expect(streamId('query', 'abc')).toBe('query-abc');
    expect(familyOf('session-1234')).toBe('session');
    expect(familyOf('node-L1')).toBe('node');
  });

  it('refuses stream ids of no known family', () => {
    expect(() => familyOf('cart-1')).toThrow('does not start with a known family');
    expect(() => familyOf('session')).toThrow();
    expect(() => streamId('node', '')).toThrow();
  });

  it('names one topic per family under a prefix', () => {
    expect(topicFor('session')).toBe('quarry.session.events');
    expect(topicFor('node', 'test1')).toBe('test1.node.events');
  });
});
