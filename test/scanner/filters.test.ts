import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScannerConfig } from '../../src/scanner/config.js';
import { evaluate, spreadPct, universeChanges, type SymbolFigures } from '../../src/scanner/filters.js';
import { loadMarketData } from '../../src/scanner/marketData.js';

const liquid: SymbolFigures = {
  symbol: 'ABC/USDT',
  base: 'ABC',
  quote: 'USDT',
  volume24h: 5_000_000,
  bid: 99.95,
  ask: 100.05,
  historyCandles: 150,
  volatilityPct: 0.5,
};

describe('scanner filters', () => {
  const config = parseScannerConfig({});

  it('passes a symbol meeting every filter and names the first one failed otherwise', () => {
    expect(evaluate(liquid, config)).toEqual({
      symbol: 'ABC/USDT',
      included: true,
      spreadPct: spreadPct(99.95, 100.05),
    });
    expect(spreadPct(99.95, 100.05)).toBeCloseTo(0.1, 12);
    const reason = (f: Partial<SymbolFigures>): string | undefined =>
      evaluate({ ...liquid, ...f }, config).reason;
    expect(reason({ quote: 'EUR' })).toBe('quote EUR not in USDT');
    expect(reason({ volume24h: 999_999 })).toBe('24h volume 999999 < 1000000');
    expect(reason({ bid: 99, ask: 101 })).toBe('spread 2% > 0.2%');
    expect(reason({ bid: Number.NaN })).toBe('spread Infinity% > 0.2%');
    expect(reason({ historyCandles: 119 })).toBe('history 119 candles < 120');
    expect(reason({ volatilityPct: 2.5 })).toBe('volatility 2.5% > 2%');
    const { volatilityPct: _, ...noVolatility } = liquid;
    expect(evaluate(noVolatility, config).reason).toBe('volatility unknown (too few candles for the ATR)');
  });

  it('reads market caps and listings from a local file and filters on them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'market-data-'));
    try {
      const file = join(dir, 'market.yaml');
      await writeFile(
        file,
        'ABC: { market_cap: 2.0e9, listings: 12 }\nXYZ: { market_cap: 1.0e6, listings: 2 }\n',
      );
      const market = await loadMarketData(file);
      const strict = parseScannerConfig({ filtering: { min_market_cap: 1e8, min_listings: 5 } });
      expect(evaluate(liquid, strict, market).included).toBe(true);
      expect(evaluate({ ...liquid, symbol: 'XYZ/USDT', base: 'XYZ' }, strict, market).reason).toBe(
        'market cap 1000000 < 100000000',
      );
      expect(evaluate({ ...liquid, symbol: 'NEW/USDT', base: 'NEW' }, strict, market).reason).toBe(
        'NEW not in the market data file',
      );
      await writeFile(file, 'ABC: { market_cap: -1 }\n');
      await expect(loadMarketData(file)).rejects.toThrow(/market\.yaml: ABC\.market_cap: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists the symbols entering and leaving', () => {
    expect(universeChanges(new Set(['A', 'B', 'C']), new Set(['B', 'D', 'C', 'E']))).toEqual({
      entered: ['D', 'E'],
      left: ['A'],
    });
  });
});
