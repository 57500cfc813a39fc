/**
 * Tells core nodes whose inboxes just received transfers, so that hosted recipients receive them now, not
 * at their next poll. One request in flight per core: recipients named meanwhile go in the next one, so a
 * burst of transfers costs a few requests, not one per transfer. Past MAX_RECIPIENTS names the nudge names
 * none, which asks the core to look at every inbox.
 */
export const MAX_RECIPIENTS = 1024;

export interface InboxNudge {
  recipients?: string[];
}

type Waiting = Set<string> | 'all';

export class InboxNotifier {
  private readonly waiting = new Map<string, Waiting>();
  private readonly sending = new Set<string>();

  constructor(
    private readonly cores: readonly string[],
    /** Sends one nudge; its failure only means the core finds the transfer at its next poll. */
    private readonly send: (core: string, nudge: InboxNudge) => Promise<void>,
  ) {}

  /** A transfer to `recipient` was accepted. */
  transferTo(recipient: string): void {
    for (const core of this.cores) {
      const waiting = this.waiting.get(core) ?? new Set<string>();
      if (waiting !== 'all') waiting.add(recipient);
      this.waiting.set(core, waiting !== 'all' && waiting.size > MAX_RECIPIENTS ? 'all' : waiting);
      this.flush(core);
    }
  }

  private flush(core: string): void {
    const waiting = this.waiting.get(core);
    if (this.sending.has(core) || waiting === undefined) return;
    this.waiting.delete(core);
    this.sending.add(core);
    const nudge = waiting === 'all' ? {} : { recipients: [...waiting] };
    void this.send(core, nudge)
      .catch(() => undefined)
      .finally(() => {
        this.sending.delete(core);
        this.flush(core);
      });
  }
}
