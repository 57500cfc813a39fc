import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { dsmInProcess as dsm } from '../test/in-process.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('command line parsing', () => {
  it('prints help and the version with exit 0', async () => {
    const help = await dsm('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: dsm');
    for (const group of ['status', 'config', 'topology', 'identity', 'token', 'policy', 'chain']) {
      expect(help.stdout).toContain(group);
    }
    expect((await dsm('--version')).stdout.trim()).toBe('0.1.0');
  });

  it('exits 2 with E_USAGE for unknown commands and options, missing options and arguments', async () => {
    for (const args of [
      ['bogus'],
      ['status', '--bogus'],
      ['token', 'create', '--as', 'x'],
      ['identity', 'show'],
      ['chain', 'verify', 'a', 'b'],
    ]) {
      const r = await dsm(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error E_USAGE: /);
      expect(r.stdout).toBe('');
    }
  });

  it('exits 2 for a group without its subcommand', async () => {
    const r = await dsm('token');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: dsm token');
  });

  it('validates option values before calling anything', async () => {
    const bad = await dsm('config', 'set', '--policy-cache-size=lots');
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'error E_USAGE: --policy-cache-size: expected an integer ≥ 0, got "lots"\n',
    });
    expect((await dsm('config', 'set')).stderr).toContain('give at least one of');
    expect((await dsm('config', 'set', '--auto-receive', 'maybe')).code).toBe(2);
    expect((await dsm('identity', 'show', 'alice')).stderr).toContain('<id>: expected a DSM id');
    expect((await dsm('topology', 'add-peer', 'nope')).stderr).toContain('expected host:port');
    expect((await dsm('--url', 'localhost:7545', 'status')).stderr).toContain(
      '--url: expected an http(s) URL',
    );
    expect((await dsm('chain', 'show', 'x', '--limit', '0')).code).toBe(2);
  });

  it('reports usage errors as a JSON document on stderr with --json, wherever --json is', async () => {
    for (const args of [
      ['--json', 'config', 'set'],
      ['config', 'set', '--json'],
    ]) {
      const r = await dsm(...args);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stderr) as { error: { code: string; message: string } };
      expect(doc.error.code).toBe('E_USAGE');
    }
  });

  it('reports an unreachable service as E_UNAVAILABLE naming the URL (exit 1)', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await dsm('status', '--url', url, '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stderr) as {
      error: { code: string; message: string; details: { url: string } };
    };
    expect(doc.error.code).toBe('E_UNAVAILABLE');
    expect(doc.error.message).toContain(url);
    expect(doc.error.details.url).toBe(`${url}/v1/status`);
    const human = await dsm('status', '--url', url);
    expect(human.stderr).toMatch(new RegExp(`^error E_UNAVAILABLE: GET ${url}/v1/status: ECONNREFUSED`));
  });

  it('reports an unreadable file as E_NOT_FOUND (exit 1)', async () => {
    const r = await dsm('chain', 'verify', '/nonexistent/export.cbor');
    expect(r).toMatchObject({
      code: 1,
      stderr: 'error E_NOT_FOUND: cannot read /nonexistent/export.cbor (ENOENT)\n',
    });
    expect((await dsm('policy', 'validate', '/nonexistent/p.json')).stderr).toMatch(/^error E_NOT_FOUND: /);
  });
});
