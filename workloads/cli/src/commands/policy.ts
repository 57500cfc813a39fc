/** `dsm policy validate|show`: check a policy file offline and print its anchor; fetch a policy by anchor. */
import { DsmError, dagJsonToCbor, idOfBytes, parseId } from '@dsm/protocol';
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { parseIdText } from '../options.js';
import { renderPolicy, renderPolicyCheck } from '../output.js';
import { anonymousAuthor, checkPolicy, readPolicyFile } from '../policy-file.js';

export function registerPolicy(program: Command, io: Io): void {
  const policy = program.command('policy').description('CTPA policies');

  policy
    .command('validate')
    .description('validate a policy file offline and print the anchor (id) it would have')
    .argument('<file.json>', 'policy file {"conditions": [...], "description": "..."}')
    .option(
      '--author <identity>',
      "author of the policy: a token's policy is authored by its issuer (default: anonymous, as the core's validate)",
    )
    .action(async (file: string, options: { author?: string }, command: Command) => {
      const author =
        options.author !== undefined ? parseId(parseIdText('--author', options.author)) : anonymousAuthor();
      const ctx = contextOf(command, io);
      const { check } = checkPolicy(await readPolicyFile(file), author);
      ctx.emit({ file, ...check }, renderPolicyCheck);
    });

  policy
    .command('show')
    .description('fetch a policy from the core node by its anchor (checked against the anchor)')
    .argument('<anchor>', 'policy id')
    .action(async (anchor: string, _options: object, command: Command) => {
      const checked = parseIdText('<anchor>', anchor);
      const ctx = contextOf(command, io);
      const text = await ctx.core().policy(checked);
      // Content addressing: what came back must hash to the anchor asked for.
      if (!idOfBytes(dagJsonToCbor(text)).equals(parseId(checked))) {
        throw new DsmError(
          'E_POLICY_UNAVAILABLE',
          `the policy returned for ${checked} does not hash to that anchor`,
          {
            anchor: checked,
          },
        );
      }
      const object = JSON.parse(text) as Record<string, unknown>;
      ctx.emit({ anchor: checked, policy: object }, (r) => renderPolicy(r.anchor, r.policy));
    });
}
