import { linkSignals } from '../../infra/abort.js';
import type { Logger } from '../../infra/logger.js';
import type { OkxRestClient, RestCall } from './rest.js';

export interface InstrumentCheckContext {
  readonly rest: OkxRestClient;
  /** Aborted when the feed stops: the check ends without a verdict. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/**
 * Checks `symbols` against /api/v5/public/instruments (SPOT, or SWAP for `-SWAP` ids) and calls `unknown`
 * for each one OKX does not list. Returns why it could not check (no answer within `timeoutMs`, an error),
 * or undefined when it did (or the feed stopped).
 */
export async function checkInstruments(
  ctx: InstrumentCheckContext,
  symbols: Iterable<string>,
  call: RestCall,
  timeoutMs: number,
  unknown: (instId: string, message: string) => void,
): Promise<string | undefined> {
  const byType = new Map<string, string[]>();
  for (const instId of symbols) {
    const type = instId.endsWith('-SWAP') ? 'SWAP' : 'SPOT';
    byType.set(type, [...(byType.get(type) ?? []), instId]);
  }
  const deadline = linkSignals([ctx.signal], timeoutMs);
  try {
    for (const [type, ids] of byType) {
      let known: Set<string>;
      try {
        const rows = await ctx.rest.instruments(type, undefined, { ...call, signal: deadline.signal });
        known = new Set(rows.map((i) => i.instId));
      } catch (err) {
        if (!ctx.signal.aborted) ctx.log.debug({ err: String(err) }, 'no answer from OKX instruments');
        return String(err);
      }
      if (ctx.signal.aborted) return undefined;
      for (const instId of ids) {
        if (!known.has(instId))
          unknown(instId, `${instId} is not an OKX ${type} instrument (/api/v5/public/instruments)`);
      }
    }
    return undefined;
  } finally {
    deadline.dispose();
  }
}
