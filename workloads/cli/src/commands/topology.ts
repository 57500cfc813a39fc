/**
 * `dsm topology list|add-peer|remove-peer`: the storage nodes a core node writes to, or the replication
 * peers of a storage node. Which one --admin-url is comes from its /v1/status.
 */
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { parsePeer } from '../options.js';
import { renderPeerChange, renderTopology } from '../output.js';

export function registerTopology(program: Command, io: Io): void {
  const topology = program
    .command('topology')
    .description('storage nodes of a core node, or peers of a storage node, at --admin-url (admin token)');

  topology
    .command('list')
    .description('list peers and whether they are up')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.admin().topology(), renderTopology);
    });

  topology
    .command('add-peer')
    .description('add a peer (persisted by the node)')
    .argument('<host:port>', 'the peer to add')
    .action(async (peer: string, _options: object, command: Command) => {
      const checked = parsePeer('<host:port>', peer);
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.admin().addPeer(checked), (c) => renderPeerChange(c, 'added'));
    });

  topology
    .command('remove-peer')
    .description('remove a peer (persisted by the node)')
    .argument('<host:port>', 'the peer to remove')
    .action(async (peer: string, _options: object, command: Command) => {
      const checked = parsePeer('<host:port>', peer);
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.admin().removePeer(checked), (c) => renderPeerChange(c, 'removed'));
    });
}
