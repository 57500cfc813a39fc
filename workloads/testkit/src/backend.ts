/**
 * Where the services of a test run. A backend turns "this service, with these settings" into a running
 * service the harness can read and stop; `ServiceProcess` (and so `Network`, `Cluster`, `CoreProcess`,
 * `StorageProcess`) only talks to this interface. Today: `processBackend`, child processes of the test on
 * this machine. Docker Compose and Kubernetes backends come with `e2e/` (see README.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The entry point of one of our services, named through its package's exports (`@dsm/core/main.js`,
 * `@dsm/storage/main.js`), never by a path into another package's folder.
 */
export type ServiceEntry = `@dsm/${string}`;

/** A started service. */
export interface Started {
  /** The OS process, when the backend runs one on this machine (its pid is what a test may signal). */
  readonly child?: ChildProcess;
  /** Null while it runs; once it has exited, its exit code or the signal that ended it. */
  readonly exit: { code: number | null; signal: string | null } | null;
  /** Calls `listener` with everything the service prints (stdout and stderr), as it arrives. */
  onOutput(listener: (text: string) => void): void;
  /** Sends `signal`; resolves once the service has exited, with its exit code (null when a signal ended it). */
  signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
}

export interface Backend {
  readonly name: string;
  /** Starts the service at `entry` with exactly the settings `env` (nothing is inherited but what it needs to run). */
  start(entry: ServiceEntry, env: Record<string, string>): Started;
}

/** The file of a service's built entry point, resolved through its package's `exports`. */
export function entryFile(entry: ServiceEntry): string {
  return fileURLToPath(import.meta.resolve(entry));
}

/** Each service is a child process of the test (`node <entry file>`) on 127.0.0.1. */
export const processBackend: Backend = {
  name: 'process',
  start(entry, env) {
    const child = spawn(process.execPath, [entryFile(entry)], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    return {
      child,
      get exit() {
        return exited() ? { code: child.exitCode, signal: child.signalCode } : null;
      },
      onOutput(listener) {
        child.stdout!.on('data', (d: Buffer) => listener(d.toString()));
        child.stderr!.on('data', (d: Buffer) => listener(d.toString()));
      },
      signal(signal) {
        if (exited()) return Promise.resolve(child.exitCode);
        const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        child.kill(signal);
        return done;
      },
    };
  },
};
