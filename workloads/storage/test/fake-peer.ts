/**
 * Hostile peers for integration tests: real `node:http` servers on 127.0.0.1 that lie, hang or flood, and
 * what a test measures of a real node process while they do (resident memory, open file descriptors).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort, type StorageProcess } from '@dsm/testkit';

export interface FakePeer {
  address: string;
  server: Server;
  close(): Promise<void>;
}

export async function fakePeer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<FakePeer> {
  const port = await freePort();
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** A replication log page with nothing in it (the fake peer has nothing to offer). */
export function sendEmptyLog(res: ServerResponse, nodeId = 'fake'): void {
  res.writeHead(200, { 'content-type': 'application/vnd.ipld.dag-cbor' });
  res.end(Buffer.from(dagCbor.encode({ nodeId, last: 0, entries: [] })));
}

/** Streams `total` bytes of junk (1 MiB chunks, honouring back-pressure) until done or the client goes away. */
export async function streamJunk(res: ServerResponse, total: number, contentType: string): Promise<void> {
  res.writeHead(200, { 'content-type': contentType });
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let sent = 0; sent < total && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk))
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
  }
  res.end();
}

function pidOf(node: StorageProcess): number {
  const pid = node.child?.pid;
  if (pid === undefined) throw new Error(`${node.name} is not running`);
  return pid;
}

/** Resident memory of the node process (VmRSS), in MiB. */
export function rssMiB(node: StorageProcess): number {
  const status = readFileSync(`/proc/${pidOf(node)}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

/** File descriptors the node process has open (sockets, RocksDB files, pipes). */
export function openFds(node: StorageProcess): number {
  return readdirSync(`/proc/${pidOf(node)}/fd`).length;
}

/** Samples `measure` every `everyMs` until stopped; returns the highest value seen. */
export function sampleMax(measure: () => number, everyMs = 100): { stop(): number } {
  let max = measure();
  const timer = setInterval(() => {
    try {
      max = Math.max(max, measure());
    } catch {
      // the process is gone: keep the highest value seen
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}
