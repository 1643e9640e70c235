import { fileURLToPath } from 'node:url';
import type { Subscription } from 'rxjs';
import type { Trade } from '../../src/domain/trade.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { OkxSimulator } from '../../src/sim/okxSimulator.js';
import { okxTrades, type OkxFeedEvent } from '../../src/streams/okx/okxTrades.js';
import { OkxRestClient } from '../../src/streams/okx/rest.js';
import { readTradeCsv } from '../../src/streams/tradeCsv.js';

const samples = fileURLToPath(new URL('../../samples/', import.meta.url));

describe('okxTrades when REST history does not reach back to the last trade seen', () => {
  it('reports a gap naming the symbol and time range, and goes on without a hole after it', async () => {
    const { trades } = await readTradeCsv(
      `${samples}binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv`,
      {
        symbol: 'BTC-USDT',
      },
    );
    // REST keeps only the newest 40 trades: a 1.5 s outage at 50× misses far more.
    const sim = new OkxSimulator({
      instruments: [{ instId: 'BTC-USDT', trades }],
      speed: 50,
      historyTradesLimit: 40,
    });
    const { restUrl, wsPublicUrl } = await sim.start();
    const got: Trade[] = [];
    const events: OkxFeedEvent[] = [];
    const log = new RecordingLogger();
    let sub: Subscription | undefined;
    try {
      sub = okxTrades({
        symbols: ['BTC-USDT'],
        wsUrl: wsPublicUrl,
        rest: new OkxRestClient({ baseUrl: restUrl }),
        logger: log,
        onEvent: (e) => events.push(e),
        pingAfterMs: 300,
        pongTimeoutMs: 300,
        backoff: { baseMs: 100, maxMs: 500 },
      }).subscribe((t) => got.push(t));
      await new Promise((r) => setTimeout(r, 1_000));
      const restBefore = sim.stats().restRequests;
      sim.stall(1_500);
      const t0 = Date.now();
      while (!events.some((e) => e.type === 'gap') && Date.now() - t0 < 15_000)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 1_000));
      expect(sim.stats().restRequests).toBeGreaterThan(restBefore);
    } finally {
      sub?.unsubscribe();
      await sim.stop();
    }
    const gap = events.find((e) => e.type === 'gap');
    expect(gap).toMatchObject({ type: 'gap', symbol: 'BTC-USDT', candles: expect.any(Array) });
    if (gap?.type !== 'gap') throw new Error('no gap event');
    expect(gap.toMs).toBeGreaterThan(gap.fromMs);
    // The gap is exactly where the emitted ids jump, and nowhere else.
    const jumps = got
      .slice(1)
      .filter((t, i) => Number(t.tradeId) - (t.count ?? 1) !== Number((got[i] as Trade).tradeId));
    expect(jumps).toHaveLength(1);
    expect(jumps[0]?.tsMs).toBe(gap.toMs);
    expect(log.records).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'trades lost: OKX REST history does not reach back to the last trade seen',
      }),
    );
  }, 30_000);
});
