import type { Prng } from './prng.js';

/** Faults the simulator injects on purpose, to drill a client's recovery. */
export interface SimFaults {
  /** Abruptly terminate every client WebSocket every S seconds (no close frame). */
  readonly dropEverySec?: number;
  /** Every S seconds, stop sending anything (pushes, pongs) on every open connection for stallForSec. */
  readonly stallEverySec?: number;
  /** Default 35 (longer than OKX's 30 s idle limit, shorter than ccxt's 36 s pong timeout). */
  readonly stallForSec?: number;
  /** Every S seconds, send the 64008 service notice on every open connection, then close it noticeGraceSec later. */
  readonly noticeEverySec?: number;
  /** Default 60, as OKX. */
  readonly noticeGraceSec?: number;
  /** Probability that a push is preceded by a malformed frame. */
  readonly garbageRate?: number;
  /** Probability that a trades push is sent twice. */
  readonly duplicateRate?: number;
  /** Seed of every random choice (connection ids, garbage, duplicates, book sizes). Default 1. */
  readonly seed?: number;
}

export type PeriodicFault = 'drop' | 'stall' | 'notice';

/** When each periodic fault falls due: at start + k·period, on the simulator's clock. */
export class FaultSchedule {
  private readonly next = new Map<PeriodicFault, { at: number; periodMs: number }>();

  constructor(faults: SimFaults, startMs: number) {
    const periods: [PeriodicFault, number | undefined][] = [
      ['drop', faults.dropEverySec],
      ['stall', faults.stallEverySec],
      ['notice', faults.noticeEverySec],
    ];
    for (const [fault, sec] of periods) {
      if (sec !== undefined && sec > 0)
        this.next.set(fault, { at: startMs + sec * 1000, periodMs: sec * 1000 });
    }
  }

  /** Faults due by `nowMs` (each at most once per call, even if the clock jumped over several periods). */
  due(nowMs: number): PeriodicFault[] {
    const out: PeriodicFault[] = [];
    for (const [fault, slot] of this.next) {
      if (nowMs < slot.at) continue;
      out.push(fault);
      while (slot.at <= nowMs) slot.at += slot.periodMs;
    }
    return out;
  }
}

/** A frame no well-behaved OKX client may take for data: each kind is a different way to be broken. */
export function garbageFrame(rng: Prng, validPush: string, channel: string, instId: string): string | Buffer {
  switch (rng.int(0, 6)) {
    case 0: // truncated JSON
      return validPush.slice(0, Math.max(1, rng.int(1, validPush.length - 2)));
    case 1: // right shape, wrong types
      return JSON.stringify({
        arg: { channel, instId },
        data: [
          { instId, tradeId: rng.int(1, 1e9), px: null, sz: -1, side: 7, ts: true, count: {}, seqId: 'x' },
        ],
      });
    case 2: // data that is not an array
      return JSON.stringify({ arg: { channel, instId }, data: 'garbage' });
    case 3: // an event nobody documented
      return JSON.stringify({ event: 'mystery', code: '99999', msg: 'unexpected', connId: 'ffffffff' });
    case 4: // binary junk
      return Buffer.from(Array.from({ length: rng.int(1, 32) }, () => rng.int(0, 255)));
    case 5: // not JSON at all
      return `<html>502 Bad Gateway ${rng.hex8()}</html>`;
    default: // valid JSON, meaningless
      return rng.pick(['{}', '[]', 'null', '42', '"pong"', '{"arg":{}}']);
  }
}
