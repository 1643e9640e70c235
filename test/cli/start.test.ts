import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli.js';

const samples = fileURLToPath(new URL('../../samples/', import.meta.url));

describe('rxtrade start (recorded trades through the live pipeline on a running clock)', () => {
  it('closes the same candles, on its own clock, as the virtual-time replay of the same files', async () => {
    // 11 minutes of BTC-USDT and ETH-USDT at 600×: about 1.1 s of wall time.
    const live = await runCli(['start', '--speed', '600', '--timeframes', '1m,5m']);
    expect(live.code).toBe(0);
    expect(live.stderr).toMatch(/playing 34419 recorded trades of BTC-USDT, ETH-USDT at 600×/);
    expect(live.stderr).not.toMatch(/late trades/);

    const replayed: string[] = [];
    for (const f of ['BTCUSDT', 'ETHUSDT']) {
      const r = await runCli([
        'candles',
        '--trades',
        `${samples}binance_spot_${f}_trades_20240808T2354_20240809T0005.csv`,
        '--timeframes',
        '1m,5m',
        '-q',
      ]);
      replayed.push(...r.stdout.trim().split('\n').slice(1));
    }
    const liveRows = live.stdout.trim().split('\n').slice(1);
    expect(liveRows).toHaveLength(28);
    expect([...liveRows].sort()).toEqual([...replayed].sort());
  });

  it('stops cleanly when interrupted', async () => {
    const r = await runCli(['start', '--speed', '1'], new Promise((resolve) => setTimeout(resolve, 300)));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/stopped; 0 candles/);
  });

  it('refuses a bad speed', async () => {
    const r = await runCli(['start', '--speed', 'fast']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--speed must be a number > 0, got "fast"/);
  });
});
