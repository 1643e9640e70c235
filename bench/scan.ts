import { randomBytes } from 'node:crypto';
import type { Candle } from '../src/domain/candle.js';
import { silentLogger } from '../src/infra/logger.js';
import { parseScannerConfig } from '../src/scanner/config.js';
import type { BookTop, MarketTicker, ScanExchange } from '../src/scanner/exchange.js';
import { Scanner } from '../src/scanner/scanner.js';
import { ScannerStore } from '../src/scanner/store.js';
import { scanCandles, scanMarketSpecs } from '../src/sim/scanMarket.js';
import { openDatabase } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrate.js';
import { describeMachine } from './machine.js';
import { admin, withDatabase } from './pgAdmin.js';

const MIN = 60_000;

/** The generated market's candles served from memory: what is measured is the scanner and the database, not the network. */
class MemoryExchange implements ScanExchange {
  readonly name = 'bench';
  constructor(private readonly series: ReadonlyMap<string, readonly Candle[]>) {}
  async tickers(): Promise<MarketTicker[]> {
    return [...this.series.entries()].map(([symbol, candles]) => {
      const last = candles[candles.length - 1] as Candle;
      const [base = '', quote = ''] = symbol.split('/');
      return {
        symbol,
        base,
        quote,
        volume24h: 1e9,
        bid: last.close * 0.9999,
        ask: last.close * 1.0001,
        last: last.close,
      };
    });
  }
  async candles(symbol: string, limit: number, untilMs?: number): Promise<Candle[]> {
    const all = this.series.get(symbol) ?? [];
    const upTo = all.filter((c) => untilMs === undefined || c.closeTimeMs <= untilMs);
    return upTo.slice(-limit);
  }
  async book(): Promise<BookTop | undefined> {
    return { bids: [[1, 1]], asks: [[1.01, 1]] };
  }
}

/**
 * The scanner on `symbols` liquid symbols (the generated market's, bursts included) on a REAL Postgres
 * (DATABASE_URL's server, else 127.0.0.1:5432, scratch database): warm-up on 150 candles, then `minutes`
 * scans of one new 1m candle per symbol each, as at every candle close. Reports symbols scored per second
 * and close → every opportunity, snapshot, position and metrics row committed (one scan's wall time), p50/p99.
 */
export async function benchScan(symbols = 200, minutes = 30): Promise<string[]> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `rxtrade_bench_${randomBytes(5).toString('hex')}`;
  await admin(withDatabase(server, 'postgres'), `CREATE DATABASE ${name}`);
  try {
    const db = await openDatabase({ url: withDatabase(server, name) });
    try {
      await migrate(db);
      const warm = 150;
      const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);
      const specs = scanMarketSpecs(symbols * 2)
        .filter((_, i) => i % 10 < 6)
        .slice(0, symbols);
      const series = new Map(
        specs.map((s) => {
          const symbol = s.instId.replace('-', '/');
          return [symbol, scanCandles(s, warm + minutes, t0 - warm * MIN, 7).map((c) => ({ ...c, symbol }))];
        }),
      );
      const config = parseScannerConfig({
        filtering: { min_history_candles: 100 },
        momentum_strategy: { min_score: 70 },
        application: { snapshot_interval_minutes: 5, warmup_candles: warm },
      });
      const store = new ScannerStore(db, `bench-${name}`, 'bench');
      await store.startRun();
      const scanner = new Scanner({
        exchange: new MemoryExchange(series),
        store,
        config,
        logger: silentLogger,
      });
      await scanner.step(t0);
      const latencies: number[] = [];
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      for (let m = 1; m <= minutes; m++) {
        const start = performance.now();
        await scanner.step(t0 + m * MIN);
        latencies.push(performance.now() - start);
      }
      const wall = (performance.now() - wall0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const sorted = [...latencies].sort((a, b) => a - b);
      const pct = (p: number): number =>
        sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
      return [
        `scan: ${describeMachine()}`,
        `scan: ${scanner.universeSymbols.length} symbols × ${minutes} minutes: ${((scanner.universeSymbols.length * minutes) / wall).toFixed(0)} symbol-scans/s, ` +
          `CPU ${((cpu.user + cpu.system) / 1000 / minutes) | 0} ms per scan; ${scanner.counts.opportunities} opportunities, ${scanner.counts.snapshots} snapshots`,
        `scan: candle close → all rows committed (one scan of every symbol): p50 ${pct(0.5).toFixed(0)} ms, p99 ${pct(0.99).toFixed(0)} ms, max ${sorted[sorted.length - 1]?.toFixed(0)} ms (target ≤ 1000 ms)`,
      ];
    } finally {
      await db.close();
    }
  } finally {
    await admin(withDatabase(server, 'postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}
