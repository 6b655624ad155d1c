import { LensError } from '@quarry/contracts';
import { clientAddressOf, sessionOf } from './grpc-requests';

describe('quarry.v1 request helpers', () => {
  it('knows a client by its address without the port, IPv4 or IPv6', () => {
    expect(clientAddressOf({ getPeer: () => '127.0.0.1:51234' })).toBe('127.0.0.1');
    expect(clientAddressOf({ getPeer: () => '::1:51234' })).toBe('::1');
    expect(clientAddressOf({ getPeer: () => '[::ffff:10.0.0.2]:80' })).toBe('::ffff:10.0.0.2');
    expect(clientAddressOf({ getPeer: () => 'x:1', getConnectionInfo: () => ({ remoteAddress: '10.1.2.3' }) })).toBe('10.1.2.3');
    expect(clientAddressOf(undefined)).toBe('unknown');
  });

  it('needs a session, and reads its ids in lower case', () => {
    expect(() => sessionOf({ session: null })).toThrow(LensError);
    const upper = { publicId: 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA', secretId: 'BBBBBBBB-BBBB-4BBB-8BBB-BBBBBBBBBBBB' };
    expect(sessionOf({ session: upper })).toEqual({ publicId: upper.publicId.toLowerCase(), secretId: upper.secretId.toLowerCase() });
  });
});
