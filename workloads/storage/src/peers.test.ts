import { describe, expect, it } from '@jest/globals';
import { isPeerAddress, parsePeerAddress } from './peers.js';

describe('peer addresses', () => {
  it('are host:port with a canonical port in 1..65535', () => {
    for (const good of ['storage-0:8765', '127.0.0.1:1', 'a.example.org:65535', '[::1]:80', ' x:80 '])
      expect({ good, ok: isPeerAddress(good) }).toEqual({ good, ok: true });
    for (const bad of [
      '127.0.0.1:99999',
      'host:65536',
      'host:0',
      'host:080',
      ':80',
      'a b:80',
      'http://x:80',
      'host',
      'host:',
      '',
      '-a:80',
      'x:80/y',
    ])
      expect({ bad, ok: isPeerAddress(bad) }).toEqual({ bad, ok: false });
  });

  it('parse to lower case, trimmed; refusals are E_BAD_REQUEST naming the field', () => {
    expect(parsePeerAddress(' Storage-0:8765 ')).toBe('storage-0:8765');
    expect(() => parsePeerAddress('host:0')).toThrow(
      expect.objectContaining({ code: 'E_BAD_REQUEST', details: { field: 'peer', value: 'host:0' } }),
    );
  });
});
