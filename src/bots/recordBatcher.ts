import { RxtradeError } from '../domain/errors.js';
import type { BotStore } from '../storage/botStore.js';
import type { BotCandleRecord, RecordCandleResult } from '../storage/botRecords.js';

interface Waiting {
  readonly botKey: string;
  readonly steps: readonly BotCandleRecord[];
  readonly resolve: (r: RecordCandleResult[]) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Gathers the records the bots make on one candle close into ONE `recordCandles` statement (one commit
 * instead of one per bot: what lets 100 bots commit within a candle's first 100 ms). Records handed in
 * during the same turn of the event loop go together; each bot's records still succeed or fail on their own.
 * A bot has at most one call in flight (its runner waits for it), so a batch holds a bot's records in order.
 */
export class RecordBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly store: BotStore) {}

  /** Writes `steps` (one bot's records, in close-time order) with the other bots' of this turn. */
  record(botKey: string, steps: readonly BotCandleRecord[]): Promise<RecordCandleResult[]> {
    return new Promise<RecordCandleResult[]>((resolve, reject) => {
      this.waiting.push({ botKey, steps, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    try {
      const results = await this.store.recordCandles(
        batch.flatMap(({ botKey, steps }) => steps.map((step) => ({ botKey, step }))),
      );
      let at = 0;
      for (const w of batch) {
        const own = results.slice(at, (at += w.steps.length));
        const failed = own.find((r) => r.error !== undefined);
        if (own.length < w.steps.length)
          w.reject(new RxtradeError('internal', `recordCandles gave no result for ${w.botKey}`));
        else if (failed !== undefined) w.reject(failed.error);
        else w.resolve(own.map((r) => ({ recorded: r.recorded, fillsWritten: r.fillsWritten })));
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
