import { RxtradeError } from '../domain/errors.js';
import type { BotStore } from '../storage/botStore.js';
import type { BotCandleRecord, RecordCandleResult } from '../storage/botRecords.js';

interface Waiting {
  readonly botKey: string;
  readonly step: BotCandleRecord;
  readonly resolve: (r: RecordCandleResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Gathers the records the bots make on one candle close into ONE `recordCandles` statement (one commit
 * instead of one per bot: what lets 100 bots commit within a candle's first 100 ms). Records handed in
 * during the same turn of the event loop go together; each bot's record still succeeds or fails on its own.
 * A bot has at most one record in flight (its runner waits for it), so a batch never holds a bot twice.
 */
export class RecordBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly store: BotStore) {}

  record(botKey: string, step: BotCandleRecord): Promise<RecordCandleResult> {
    return new Promise<RecordCandleResult>((resolve, reject) => {
      this.waiting.push({ botKey, step, resolve, reject });
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
      const results = await this.store.recordCandles(batch.map(({ botKey, step }) => ({ botKey, step })));
      batch.forEach((w, i) => {
        const r = results[i];
        if (r === undefined)
          w.reject(new RxtradeError('internal', `recordCandles gave no result for ${w.botKey}`));
        else if (r.error !== undefined) w.reject(r.error);
        else w.resolve({ recorded: r.recorded, fillsWritten: r.fillsWritten });
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
