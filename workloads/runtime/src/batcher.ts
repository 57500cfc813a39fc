/**
 * Group commit for requests: items submitted while earlier batches are on their way go out together. At
 * most `inFlight` batches are out at once, so a lone item leaves at once (a batch of one) and batches grow
 * only with the load; each batch takes at most `maxItems` items and, past the first, `maxBytes` bytes.
 * Every item gets its own outcome.
 */

/** One item's outcome in a batch. */
export type Settled<O> = { value: O } | { error: unknown };

export interface BatcherOptions<I, O> {
  inFlight: number;
  maxItems: number;
  maxBytes?: number;
  bytesOf?: (item: I) => number;
  /** Sends a batch; resolves with an outcome per item, in order (a rejection fails every item of it). */
  send: (items: I[]) => Promise<Settled<O>[]>;
}

interface Queued<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class Batcher<I, O> {
  private readonly queue: Queued<I, O>[] = [];
  private running = 0;

  constructor(private readonly options: BatcherOptions<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    const { inFlight, maxItems, maxBytes = Infinity, bytesOf = () => 0 } = this.options;
    while (this.running < inFlight && this.queue.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < Math.min(maxItems, this.queue.length)) {
        const size = bytesOf(this.queue[count]!.item);
        if (count > 0 && bytes + size > maxBytes) break;
        bytes += size;
        count++;
      }
      const batch = this.queue.splice(0, count);
      this.running++;
      void this.dispatch(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async dispatch(batch: Queued<I, O>[]): Promise<void> {
    let outcomes: Settled<O>[];
    try {
      outcomes = await this.options.send(batch.map((q) => q.item));
      if (outcomes.length !== batch.length)
        throw new Error(`a batch of ${batch.length} got ${outcomes.length} outcomes`);
    } catch (error) {
      for (const queued of batch) queued.reject(error);
      return;
    }
    batch.forEach((queued, i) => {
      const outcome = outcomes[i]!;
      if ('value' in outcome) queued.resolve(outcome.value);
      else queued.reject(outcome.error);
    });
  }
}
