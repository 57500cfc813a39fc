/** `dsm status`: GET /v1/status of whatever service --url names (core API, core P2P, storage). */
import type { Command } from 'commander';
import { fetchStatus } from '../client.js';
import { contextOf, type Io } from '../context.js';
import { renderStatus } from '../output.js';

export function registerStatus(program: Command, io: Io): void {
  program
    .command('status')
    .description(
      'status of the service at --url (core API, core P2P or storage node); exit 0 when it answers',
    )
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command, io);
      const url = ctx.endpoints.url;
      const status = await fetchStatus(url, ctx.endpoints.timeoutMs);
      ctx.emit({ url, ...status }, ({ url: u, ...s }) => renderStatus(u, s));
    });
}
