import { describe, expect, it } from '@jest/globals';
import { idOf } from '@dsm/protocol';
import { UsageError } from './errors.js';
import {
  CONFIG_FLAGS,
  checkDecimalAmount,
  configChanges,
  parseAmountText,
  parseDecimalAmount,
  parseIdempotencyKey,
  parseBoolean,
  parseIdText,
  parseInteger,
  parseLogLevel,
  parsePeer,
  parseSuite,
  parseUrl,
} from './options.js';

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('expected a usage error');
}

describe('parseInteger', () => {
  it('accepts decimal integers in range', () => {
    expect(parseInteger('--n', '0')).toBe(0);
    expect(parseInteger('--n', '2000')).toBe(2000);
    expect(parseInteger('--n', ' 42 ')).toBe(42);
    expect(parseInteger('--n', '36', 0, 36)).toBe(36);
  });

  it.each(['', 'abc', '-1', '2.5', '1e3', '0x10', '9007199254740993'])('refuses %j', (value) => {
    const e = usage(() => parseInteger('--policy-cache-size', value));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toBe(`--policy-cache-size: expected an integer ≥ 0, got "${value}"`);
    expect(e.details).toMatchObject({ option: '--policy-cache-size', value });
  });

  it('names the range when bounded', () => {
    expect(usage(() => parseInteger('--decimals', '37', 0, 36)).message).toContain('an integer from 0 to 36');
    expect(usage(() => parseInteger('--limit', '0', 1)).message).toContain('an integer ≥ 1');
  });
});

describe('parseBoolean, parseLogLevel, parseSuite', () => {
  it('takes true/false in any case', () => {
    expect(parseBoolean('--auto-receive', 'true')).toBe(true);
    expect(parseBoolean('--auto-receive', 'FALSE')).toBe(false);
    expect(usage(() => parseBoolean('--auto-receive', 'yes')).message).toBe(
      '--auto-receive: expected true or false, got "yes"',
    );
  });

  it('takes the log levels of @dsm/runtime', () => {
    expect(parseLogLevel('--log-level', 'Debug')).toBe('debug');
    expect(usage(() => parseLogLevel('--log-level', 'verbose')).message).toContain(
      'one of fatal, error, warn',
    );
  });

  it('takes the signature suites of the protocol', () => {
    expect(parseSuite('--suite', 'ml-dsa-44')).toBe('ml-dsa-44');
    expect(() => parseSuite('--suite', 'rsa')).toThrow(UsageError);
  });
});

describe('parsePeer', () => {
  it('accepts host:port forms', () => {
    expect(parsePeer('<host:port>', '127.0.0.1:8765')).toBe('127.0.0.1:8765');
    expect(parsePeer('<host:port>', 'dsm-storage-extra:8765')).toBe('dsm-storage-extra:8765');
    expect(parsePeer('<host:port>', '[::1]:8765')).toBe('[::1]:8765');
  });

  it.each(['storage', 'host:0', 'host:65536', 'http://host:1', 'a b:1', ':8765'])('refuses %j', (value) => {
    expect(usage(() => parsePeer('<host:port>', value)).message).toBe(
      `<host:port>: expected host:port, got "${value}"`,
    );
  });
});

describe('ids, amounts, urls', () => {
  const id = idOf({ example: 1 }).toString();

  it('accepts DSM ids and refuses anything else', () => {
    expect(parseIdText('--as', id)).toBe(id);
    expect(usage(() => parseIdText('--as', 'alice')).message).toContain('--as: expected a DSM id');
    expect(() => parseIdText('--as', 'bafkqaaa')).toThrow(UsageError);
  });

  it('accepts amounts as integer text', () => {
    expect(parseAmountText('--amount', '1500')).toBe('1500');
    expect(parseAmountText('--supply', '0', false)).toBe('0');
    expect(usage(() => parseAmountText('--amount', '0')).message).toBe(
      '--amount: expected a positive integer amount, got "0"',
    );
    for (const bad of ['abc', '-5', '1.5', '01', ''])
      expect(() => parseAmountText('--amount', bad)).toThrow(UsageError);
  });

  it("reads amounts in a token's decimals as base units", () => {
    expect(parseDecimalAmount('--amount', '25', 2)).toBe('2500');
    expect(parseDecimalAmount('--amount', ' 25.5 ', 2)).toBe('2550');
    expect(parseDecimalAmount('--supply', '0', 2, false)).toBe('0');
    expect(usage(() => parseDecimalAmount('--amount', '25.001', 2)).message).toBe(
      '--amount: expected a positive amount with at most 2 decimals, got "25.001"',
    );
    expect(usage(() => parseDecimalAmount('--amount', '0.0', 1)).message).toContain('a positive amount');
    expect(usage(() => parseDecimalAmount('--supply', '1.5', 0, false)).message).toBe(
      '--supply: expected an amount without decimals, got "1.5"',
    );
    expect(() => checkDecimalAmount('--amount', '25.123456')).not.toThrow();
    for (const bad of ['1e3', '-1', '.5', '1.', '1,5', '0'])
      expect(usage(() => checkDecimalAmount('--amount', bad)).message).toContain('such as 25 or 25.50');
  });

  it('takes visible ASCII idempotency keys', () => {
    expect(parseIdempotencyKey('--idempotency-key', 'nightly-run/42')).toBe('nightly-run/42');
    for (const bad of ['', 'a b', 'ключ', 'x'.repeat(256)])
      expect(usage(() => parseIdempotencyKey('--idempotency-key', bad)).details).toMatchObject({
        option: '--idempotency-key',
      });
  });

  it('accepts http(s) urls only', () => {
    expect(parseUrl('--url', 'http://127.0.0.1:7545')).toBe('http://127.0.0.1:7545');
    expect(() => parseUrl('--url', '127.0.0.1:7545')).toThrow(UsageError);
    expect(() => parseUrl('--url', 'ftp://host')).toThrow(UsageError);
  });
});

describe('configChanges', () => {
  it('converts every option to the admin API names and types', () => {
    expect(
      configChanges({
        policyCacheSize: '2000',
        policyTtl: '60',
        logLevel: 'debug',
        autoReceive: 'false',
        receivePollMs: '250',
      }),
    ).toEqual({
      policyCacheSize: 2000,
      policyTtl: 60,
      logLevel: 'debug',
      autoReceive: false,
      receivePollMs: 250,
    });
    expect(configChanges({ logLevel: 'warn' })).toEqual({ logLevel: 'warn' });
  });

  it('needs at least one option', () => {
    expect(usage(() => configChanges({})).message).toContain('give at least one of --policy-cache-size');
  });

  it('names the bad option', () => {
    expect(usage(() => configChanges({ policyTtl: 'soon' })).details.option).toBe('--policy-ttl');
    expect(usage(() => configChanges({ receivePollMs: '0' })).details.option).toBe('--receive-poll-ms');
  });
});

describe('CONFIG_FLAGS', () => {
  it('are the run-time settings of the core and storage schemas, kebab-cased, each once', () => {
    expect(CONFIG_FLAGS.map((f) => f.flag)).toEqual([
      '--policy-cache-size',
      '--policy-ttl',
      '--auto-receive',
      '--receive-poll-ms',
      '--log-level',
    ]);
    expect(CONFIG_FLAGS.map((f) => f.key)).toEqual([
      'policyCacheSize',
      'policyTtl',
      'autoReceive',
      'receivePollMs',
      'logLevel',
    ]);
  });

  it('describe themselves from the schemas, naming the service when only one has the setting', () => {
    const by = Object.fromEntries(CONFIG_FLAGS.map((f) => [f.key, f]));
    expect(by.policyCacheSize).toMatchObject({
      argument: 'n',
      description: expect.stringMatching(/ \[core\]$/),
    });
    expect(by.autoReceive).toMatchObject({
      argument: 'bool',
      description: expect.stringContaining('true or false'),
    });
    expect(by.logLevel).toMatchObject({
      argument: 'value',
      description: expect.not.stringContaining('[core]'),
    });
    expect(by.logLevel!.description).toContain('fatal, error, warn, info, debug, trace, silent');
  });

  it('check the form and leave the bounds to the node', () => {
    const by = Object.fromEntries(CONFIG_FLAGS.map((f) => [f.key, f]));
    expect(by.logLevel!.parse(' WARN ')).toBe('warn');
    expect(usage(() => by.logLevel!.parse('loud')).message).toBe(
      '--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
    // 5 ms is below the core's 50 ms: the node refuses it with E_CONFIG naming the key.
    expect(by.receivePollMs!.parse('5')).toBe(5);
    expect(by.policyCacheSize!.parse('0')).toBe(0);
  });
});
