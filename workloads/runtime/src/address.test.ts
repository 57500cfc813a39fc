import { describe, expect, it } from '@jest/globals';
import { isHostPort, parseHostPort } from './address.js';

describe('host:port addresses', () => {
  it.each(['storage-0:8765', '127.0.0.1:1', '[::1]:65535', 'A.example.COM:80', ' x:80 '])(
    'accepts %s',
    (value) => {
      expect(isHostPort(value)).toBe(true);
    },
  );

  it.each([
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
    'x:8o',
    'x:80/y',
  ])('refuses %s with E_BAD_REQUEST', (value) => {
    expect(isHostPort(value)).toBe(false);
    expect(() => parseHostPort(value)).toThrow(expect.objectContaining({ code: 'E_BAD_REQUEST' }));
  });

  it('normalises case and surrounding space', () => {
    expect(parseHostPort(' Storage-0:8765 ')).toBe('storage-0:8765');
  });
});
