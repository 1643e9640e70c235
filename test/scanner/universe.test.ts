import { expectedSpreadPct, scanMarketSpecs } from '../../src/sim/scanMarket.js';
import { freshPglite, type TestDatabase } from '../storage/support/databases.js';
import { stopAll } from '../sim/support.js';
import { scanRig } from './support.js';

/**
 * Filters and universe changes on a simulated market of 60 symbols with known liquidity and spreads
 * (src/sim/scanMarket.ts): by index, kind 6 is quoted in USDC, 7 illiquid, 8 a 0.5 % spread, 9 wild.
 */
describe('scanner universe on a 60-symbol simulated market', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshPglite();
  });
  afterEach(async () => {
    await stopAll();
    await t.dispose();
  });

  const specs = scanMarketSpecs(60);
  const symbolOf = (i: number): string => (specs[i]?.instId ?? '').replace('-', '/');
  const kindOf = (symbol: string): number =>
    specs.findIndex((s) => s.instId === symbol.replace('/', '-')) % 10;

  it('keeps exactly the liquid, tight, calm USDT pairs, says why each other one is out, and logs entries and exits', async () => {
    const rig = await scanRig(t.db, specs, { historyMinutes: 150, liveMinutes: 5 });
    await rig.scanner.step(rig.clock.ms);

    const expected = specs.map((_, i) => symbolOf(i)).filter((s) => ![6, 7, 8, 9].includes(kindOf(s)));
    expect(rig.scanner.universeSymbols).toEqual([...expected].sort());
    expect(expected.length).toBe(36);

    const rows = await t.db.query<{
      symbol: string;
      included: boolean;
      change: string | null;
      reason: string | null;
      spread_pct: number;
      volume_24h: string;
    }>(
      'SELECT symbol, included, change, reason, spread_pct, volume_24h FROM scanner_universe WHERE run_id = $1',
      [rig.store.runId],
    );
    expect(rows).toHaveLength(60);
    for (const r of rows) {
      const kind = kindOf(r.symbol);
      if (kind === 6) expect(r.reason).toBe('quote USDC not in USDT');
      else if (kind === 7) expect(r.reason).toMatch(/^24h volume \d+ < 1000000$/);
      else if (kind === 8) {
        expect(r.reason).toMatch(/^spread 0\.\d+% > 0\.2%$/);
        expect(r.spread_pct).toBeGreaterThan(expectedSpreadPct({ decimals: 0 }, 500) - 1e-9);
      } else if (kind === 9) expect(r.reason).toMatch(/^volatility [\d.]+% > 2%$/);
      else {
        expect(r).toMatchObject({ included: true, change: 'entered', reason: null });
        expect(Number(r.volume_24h)).toBeGreaterThan(1_000_000);
      }
    }
    const entered = rig.logs.filter((l) => /^universe: .* entered$/.test(l.msg));
    expect(entered).toHaveLength(36);

    // A stricter volume filter makes symbols leave at the next evaluation.
    const strict = { ...rig.config, filtering: { ...rig.config.filtering, min_volume_24h: 100_000_000 } };
    rig.scanner.applyConfig(strict);
    await rig.nextMinute();
    await rig.scanner.step(rig.clock.ms);
    const left = rig.logs.filter((l) => /^universe: .* left$/.test(l.msg)).map((l) => l.symbol as string);
    // Only BTC (50 BTC a minute at 60,000) and the wide-spread kind trade above 100 M in 150 minutes.
    expect(rig.scanner.universeSymbols).toEqual(['BTC/USDT']);
    expect(left.sort()).toEqual(expected.filter((s) => s !== 'BTC/USDT').sort());
    const leftRows = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM scanner_universe WHERE run_id = $1 AND change = 'left'",
      [rig.store.runId],
    );
    expect(leftRows[0]?.n).toBe(35);
  }, 120_000);
});
