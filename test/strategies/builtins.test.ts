import { from, lastValueFrom, toArray } from 'rxjs';
import type { Candle } from '../../src/domain/candle.js';
import type { Signal } from '../../src/domain/signal.js';
import { runStrategy } from '../../src/operators/strategy.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { bar, trades } from './support.js';

const registry = defaultStrategyRegistry();

async function run(name: string, params: object, candles: readonly Candle[]): Promise<Signal[]> {
  return lastValueFrom(from(candles).pipe(runStrategy(registry.create(name, params)), toArray()));
}

/** Candles with a range of ±2 around each close (true range 4 unless the close jumps more). */
function ranged(closes: readonly number[]): Candle[] {
  return closes.map((c, i) => bar(i + 1, c, { high: c + 2, low: c - 2 }));
}

// Down to 5, up to 10, down again: fast (2) crosses above slow (4) after the bottom, below after the top.
const V = [10, 9, 8, 7, 6, 5, 6, 7, 8, 9, 10, 9, 8, 7, 6];

describe('built-in strategies', () => {
  it('registers the six, findable by their display names in any case', () => {
    expect(registry.names()).toEqual([
      'ema_crossover',
      'sma_cross',
      'rsi_reversion',
      'macd_trend',
      'bollinger_breakout',
      'momentum',
    ]);
    for (const n of [
      'EMA_Crossover',
      'sma_CROSS',
      'Rsi_Reversion',
      'MACD_Trend',
      'bollinger-breakout',
      'Momentum',
    ]) {
      expect(registry.find(n)).toBeDefined();
    }
    expect(() => registry.get('ema')).toThrow(/unknown strategy "ema": use one of EMA_Crossover, SMA_Cross/);
  });

  it('every strategy takes defaults for missing parameters', () => {
    expect(registry.create('ema_crossover', {}).params).toEqual({
      timeframe: '1m',
      fast_period: 12,
      slow_period: 26,
      atr_period: 14,
    });
    expect(registry.create('rsi_reversion', { oversold: 25 }).params).toMatchObject({
      period: 14,
      oversold: 25,
      overbought: 70,
    });
  });

  describe('sma_cross', () => {
    // hand-computed: SMA2 / SMA4 at candle 6 = 5.5 / 6, at 7 = 6.5 / 6 (buy); at 11 = 9.5 / 9, at 12 = 8.5 / 9 (sell)
    it('buys when fast crosses above slow, sells on the opposite crossing', async () => {
      const out = await run('sma_cross', { fast_period: 2, slow_period: 4, atr_period: 2 }, ranged(V));
      expect(trades(out)).toEqual([
        [7, 'buy'],
        [12, 'sell'],
      ]);
      // spread moved from −0.5 to +0.5 = 1; ATR(2) = 4 (every true range is 4): 1 / (0.4 · 4)
      expect(out[7]?.confidence).toBeCloseTo(0.625, 12);
      expect(out[7]).toMatchObject({
        reason: 'sma_2 crossed above sma_4',
        price: 7,
        closeTimeMs: 8 * 60_000,
      });
      expect(out[7]?.indicators).toEqual({ sma_2: 6.5, sma_4: 6, atr_2: 4 });
      expect(out[12]?.indicators).toEqual({ sma_2: 8.5, sma_4: 9, atr_2: 4 });
    });

    it('touching is not crossing: from equal averages, no signal (strict inequalities)', async () => {
      const out = await run(
        'sma_cross',
        { fast_period: 2, slow_period: 4 },
        ranged([10, 10, 10, 10, 10, 11, 12, 13, 14]),
      );
      expect(trades(out)).toEqual([]);
    });

    it('no signal before both averages are warmed up', async () => {
      // fast crosses above slow's would-be value at candle 3, while SMA(6) is still warming up
      const out = await run(
        'sma_cross',
        { fast_period: 2, slow_period: 6, atr_period: 2 },
        ranged([10, 9, 8, 12, 13, 14, 15]),
      );
      expect(out.slice(0, 5).map((s) => s.reason)).toEqual(Array(5).fill('warming up'));
      expect(trades(out)).toEqual([]);
    });
  });

  describe('ema_crossover', () => {
    // hand-computed EMA2 / EMA4: candle 6 5.833 / 6.3, candle 7 6.611 / 6.58 (buy);
    // candle 11 9.168 / 8.768, candle 12 8.389 / 8.461 (sell)
    it('buys when fast crosses above slow, sells on the opposite crossing', async () => {
      const out = await run('ema_crossover', { fast_period: 2, slow_period: 4, atr_period: 2 }, ranged(V));
      expect(trades(out)).toEqual([
        [7, 'buy'],
        [12, 'sell'],
      ]);
      const i = out[7]?.indicators ?? {};
      expect(i.ema_2).toBeCloseTo(6.6111111, 6);
      expect(i.ema_4).toBeCloseTo(6.58, 12);
      // spread from 5.8333 − 6.3 to 6.6111 − 6.58: moved 0.4978; ATR 4
      expect(out[7]?.confidence).toBeCloseTo((6.6111111 - 6.58 - (5.8333333 - 6.3)) / (0.2 * 4), 5);
      expect(out.slice(0, 3).every((s) => s.reason === 'warming up')).toBe(true);
    });

    it('refuses fast_period ≥ slow_period', () => {
      expect(() => registry.create('ema_crossover', { fast_period: 26, slow_period: 12 })).toThrow(
        /parameters\.fast_period: fast_period must be smaller than slow_period/,
      );
    });
  });

  describe('rsi_reversion', () => {
    // RSI(2): 100 at candle 2, then 50, 25 (buy: fell below 27), 12.5, 56.25, 78.125 (sell: rose above 75), 89.06…
    const closes = [10, 11, 12, 11, 10, 9, 10, 11, 12, 13];
    it('buys when RSI falls below oversold, sells when it rises above overbought', async () => {
      const out = await run('rsi_reversion', { period: 2, oversold: 27, overbought: 75 }, ranged(closes));
      expect(trades(out)).toEqual([
        [4, 'buy'],
        [7, 'sell'],
      ]);
      expect(out[4]?.confidence).toBeCloseTo((27 - 25) / 5, 12);
      expect(out[7]?.confidence).toBeCloseTo((78.125 - 75) / 5, 12);
      expect(out[5]?.reason).toBe('no level crossed'); // still oversold: no second buy
      expect(out[4]?.indicators).toEqual({ rsi_2: 25 });
    });

    it('refuses oversold ≥ overbought', () => {
      expect(() => registry.create('rsi_reversion', { oversold: 80 })).toThrow(
        /parameters\.oversold: oversold must be below overbought/,
      );
    });
  });

  describe('macd_trend', () => {
    // MACD(2,3,2) line vs signal (src/domain/indicators/macd.ts): histogram −0.063 → +0.058 at candle 7,
    // +0.058 → −0.018 at 8, −0.050 → +0.341 at 10, +0.142 → −0.100 at 12, −0.102 → +0.149 at 17
    const closes = [100, 101, 100, 99, 100, 99, 98, 99, 98, 97, 103, 104, 103, 102, 101, 95, 94, 95, 96];
    it('buys when the MACD line crosses above its signal line, sells on the opposite crossing', async () => {
      const out = await run(
        'macd_trend',
        { fast_period: 2, slow_period: 3, signal_period: 2, atr_period: 2 },
        ranged(closes),
      );
      expect(trades(out)).toEqual([
        [7, 'buy'],
        [8, 'sell'],
        [10, 'buy'],
        [12, 'sell'],
        [17, 'buy'],
      ]);
      for (const [i] of trades(out)) {
        const now = out[i]?.indicators ?? {};
        const before = out[i - 1]?.indicators ?? {};
        const move = Math.abs((now.macd_hist_2_3_2 as number) - (before.macd_hist_2_3_2 as number));
        expect(out[i]?.confidence).toBeCloseTo(Math.min(1, move / (0.15 * (now.atr_2 as number))), 12);
      }
    });
  });

  describe('bollinger_breakout', () => {
    // BB(3, 1): at candle 5 the window 10.5, 10, 14 has mean 11.5, σ 1.7795, upper 13.2795: 14 breaks out;
    // at candle 7 (14, 14, 13: mean 13.667, σ 0.4714, lower 13.195) 13 breaks below; at 8 it was already below
    const closes = [10, 10.5, 10, 10.5, 10, 14, 14, 13, 9];
    it('buys on a close above the upper band, sells on a close below the lower band', async () => {
      const out = await run('bollinger_breakout', { period: 3, std_dev: 1 }, ranged(closes));
      expect(trades(out)).toEqual([
        [5, 'buy'],
        [7, 'sell'],
      ]);
      const sd5 = Math.sqrt(19 / 6);
      expect(out[5]?.confidence).toBeCloseTo((14 - (11.5 + sd5)) / (0.5 * sd5), 9);
      const sd7 = Math.sqrt(2 / 9);
      expect(out[7]?.confidence).toBeCloseTo((41 / 3 - sd7 - 13) / (0.5 * sd7), 9);
      expect(out[5]?.indicators.bb_upper_3_1).toBeCloseTo(11.5 + sd5, 9);
    });
  });

  describe('momentum', () => {
    const closes = [100, 101, 100, 99, 100, 99, 98, 99, 98, 97, 103, 104, 103, 102, 101, 95, 94, 95, 96];
    const params = {
      rsi_period: 2,
      oversold: 2,
      overbought: 90,
      macd_fast: 2,
      macd_slow: 3,
      macd_signal: 2,
      roc_periods: [1],
      roc_thresholds: [3],
      bb_period: 3,
      bb_std_dev: 2,
    };
    const candles = closes.map((c, i) => bar(i + 1, c, { high: c + 1, low: c - 1 }));

    /** The documented confidence, recomputed from the values the signal carries. */
    function expectedConfidence(s: Signal): number {
      const v = s.indicators as Record<string, number>;
      const unit = (x: number): number => Math.min(1, Math.max(0, x));
      const width = v.bb_upper_3_2! - v.bb_lower_3_2!;
      if (s.action === 'buy') {
        return (
          (unit(v.roc_1! / 3 / 2) + unit((90 - v.rsi_2!) / 88) + unit((v.bb_upper_3_2! - s.price) / width)) /
          3
        );
      }
      return (
        (unit(-v.roc_1! / 3 / 2) + unit((v.rsi_2! - 2) / 88) + unit((s.price - v.bb_lower_3_2!) / width)) / 3
      );
    }

    it('buys on a +6 % candle with MACD up, sells on a −6 % one with MACD down', async () => {
      const out = await run('momentum', params, candles);
      expect(trades(out)).toEqual([
        [10, 'buy'],
        [15, 'sell'],
      ]);
      expect(out[10]?.indicators.roc_1).toBeCloseTo((103 / 97 - 1) * 100, 9);
      expect(out[10]?.confidence).toBeCloseTo(expectedConfidence(out[10] as Signal), 12);
      expect(out[15]?.confidence).toBeCloseTo(expectedConfidence(out[15] as Signal), 12);
      expect(out[10]?.confidence).toBeCloseTo(0.3919, 3);
      // MACD is the last to warm up (slow + signal − 1 = 4 candles)
      expect(out.slice(0, 3).every((s) => s.reason === 'warming up')).toBe(true);
    });

    it('an RSI already past its level holds the move back (exhausted)', async () => {
      const out = await run('momentum', { ...params, oversold: 10 }, candles);
      expect(trades(out)).toEqual([[10, 'buy']]); // the −6 % candle has RSI 3.6 < 10
    });

    describe('trend confirmation on 5m', () => {
      /** The 1m candles with 5m candles (closes given) inserted after the 1m candle they close with. */
      function withTrend(fiveMinuteCloses: readonly number[]): Candle[] {
        const out: Candle[] = [];
        for (const c of candles) {
          out.push(c);
          const k = c.closeTimeMs / 300_000;
          const close = fiveMinuteCloses[k - 1];
          if (Number.isInteger(k) && close !== undefined) out.push(bar(k * 5, close, {}, '5m'));
        }
        return out;
      }
      const trend = { ...params, trend_confirmation: true, trend_timeframe: '5m', trend_ema_period: 2 };

      it('buys with the trend: the last closed 5m candle above its EMA', async () => {
        const out = await run('momentum', trend, withTrend([90, 100, 110]));
        expect(trades(out)).toEqual([
          [10, 'buy'],
          [15, 'sell'],
        ]);
        expect(out[10]?.indicators['5m_ema_2']).toBe(95);
      });

      it('holds a buy against the trend, never a sell', async () => {
        const out = await run('momentum', trend, withTrend([100, 90, 80]));
        expect(trades(out)).toEqual([[15, 'sell']]);
        expect(out[10]?.reason).toBe('bull setup against the trend');
      });

      it('holds a buy while the trend is not known yet', async () => {
        const out = await run('momentum', trend, withTrend([]));
        expect(out[10]?.reason).toBe('bull setup, trend not known yet');
      });

      it('refuses a trend timeframe not longer than the main one', () => {
        expect(() =>
          registry.create('momentum', { trend_confirmation: true, trend_timeframe: '1m' }),
        ).toThrow(/parameters\.trend_timeframe: trend_timeframe must be longer than timeframe/);
      });
    });
  });
});
