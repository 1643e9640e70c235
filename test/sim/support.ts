import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { Trade } from '../../src/domain/trade.js';
import { OkxSimulator, type OkxSimulatorOptions, type SimAddress } from '../../src/sim/okxSimulator.js';
import { readTradeCsv } from '../../src/streams/tradeCsv.js';

export const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
export const ETH_SAMPLE = `${SAMPLES}binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv`;
export const BTC_SAMPLE = `${SAMPLES}binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv`;

let ethTrades: Trade[] | undefined;
/** The bundled 11 minutes of real ETH-USDT trades (14,515). */
export async function sampleEthTrades(): Promise<Trade[]> {
  ethTrades ??= (await readTradeCsv(ETH_SAMPLE, { symbol: 'ETH-USDT' })).trades;
  return ethTrades;
}

/** A clock the test moves by hand: the simulator's time stands still between `advance` calls. */
export class ManualClock {
  constructor(public ms = Date.UTC(2024, 7, 8, 23, 54, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

const running: OkxSimulator[] = [];
const sockets: WebSocket[] = [];

/** Starts a simulator on a free port; `stopAll` (in afterEach) stops it and closes the test's sockets. */
export async function startSim(
  options: OkxSimulatorOptions,
): Promise<{ sim: OkxSimulator; address: SimAddress }> {
  const sim = new OkxSimulator(options);
  running.push(sim);
  return { sim, address: await sim.start() };
}

export async function stopAll(): Promise<void> {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(running.splice(0).map((s) => s.stop()));
}

export interface Frame {
  readonly text: string;
  readonly binary: boolean;
  /** The parsed JSON, or undefined when the frame is not JSON. */
  readonly json: unknown;
  /** When it arrived, on the clock given to `connect` (default: the wall clock). */
  readonly atMs: number;
}

/** A WebSocket client that records every frame and lets a test wait for the one it expects. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    clock: () => number,
  ) {
    sockets.push(ws);
    ws.on('message', (data: Buffer, binary: boolean) => {
      const text = data.toString('utf8');
      let json: unknown;
      try {
        json = binary ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.frames.push({ text, binary, json, atMs: clock() });
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    ws.on('error', () => {});
  }

  static async connect(url: string, clock: () => number = Date.now): Promise<TestClient> {
    const ws = new WebSocket(url);
    const client = new TestClient(ws, clock);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return client;
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  subscribe(args: { channel: string; instId: string }[], id?: string): void {
    this.send({ ...(id !== undefined ? { id } : {}), op: 'subscribe', args });
  }

  /** JSON frames received so far that match. */
  json(match: (m: Record<string, unknown>) => boolean = () => true): Record<string, unknown>[] {
    return this.frames
      .map((f) => f.json)
      .filter((j): j is Record<string, unknown> => typeof j === 'object' && j !== null && !Array.isArray(j))
      .filter(match);
  }

  /** Data pushes of a channel received so far, in order. */
  pushes(channel: string): Record<string, unknown>[] {
    return this.json((m) => (m.arg as { channel?: string } | undefined)?.channel === channel && 'data' in m);
  }

  /** Resolves once `done()` holds (checked at every frame), or fails after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the next JSON frame (after those already received) that matches. */
  async next(
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, unknown>> {
    const seen = this.frames.length;
    let found: Record<string, unknown> | undefined;
    await this.until(
      () => {
        found = this.frames
          .slice(seen)
          .map((f) => f.json as Record<string, unknown>)
          .find((j) => typeof j === 'object' && j !== null && match(j));
        return found !== undefined;
      },
      timeoutMs,
      'a matching frame',
    );
    return found as Record<string, unknown>;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every 10 ms until it holds or `timeoutMs` passes. */
export async function waitFor(done: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A trade for hand-made data sets (times in ms from `t0`). */
export function trade(
  offsetMs: number,
  price: number,
  size: number,
  side: 'buy' | 'sell',
  t0 = Date.UTC(2024, 0, 1),
): Trade {
  return { symbol: 'X', tradeId: String(offsetMs), tsMs: t0 + offsetMs, price, size, side };
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
