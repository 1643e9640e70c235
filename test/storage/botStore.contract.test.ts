import { validateBotFile, type BotConfig } from '../../src/bots/botConfig.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import {
  BotStore,
  UnknownBotError,
  type BotCandleRecord,
  type BotFillRecord,
  type BotStatus,
} from '../../src/storage/botStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 7, 8, 23, 55);

/** A validated bot configuration, as the loader makes them (source and hash from the text). */
export function botConfig(botId: string, over: Record<string, unknown> = {}): BotConfig {
  const data = {
    bot_id: botId,
    strategy: 'ema_crossover',
    symbol: 'BTC-USDT',
    virtual_balance: 10_000,
    ...over,
  };
  const text = JSON.stringify(data);
  return validateBotFile(data, {
    source: `config/bots/${botId}.json`,
    text,
    registry: defaultStrategyRegistry(),
  });
}

function fill(seq: number, over: Partial<BotFillRecord> = {}): BotFillRecord {
  return {
    seq,
    orderId: seq,
    timeMs: T0 + seq * MIN - MIN,
    side: 'buy',
    price: 61837.63,
    qty: 0.01234567,
    fee: 0.76344321,
    balanceAfter: 9236.69,
    orderType: 'market',
    purpose: 'entry',
    liquidity: 'taker',
    reason: 'ema 5 crossed above ema 13',
    ...over,
  };
}

/** The record of candle `i` (closing at T0 + i minutes), with a hold signal and no fill unless given. */
function step(i: number, over: Partial<BotCandleRecord> = {}): BotCandleRecord {
  return {
    closeTimeMs: T0 + i * MIN,
    signals: [
      {
        closeTimeMs: T0 + i * MIN,
        action: 'hold',
        price: 61800 + i,
        confidence: 0,
        reason: 'no crossing',
        indicators: { ema_5: 61801.5, ema_13: 61799.25 },
      },
    ],
    fills: [],
    positions: [],
    performance: {
      totalValue: 10_000 + i,
      cash: 10_000 - i,
      cryptoValue: 2 * i,
      totalTrades: i,
      winningTrades: Math.floor(i / 2),
      totalFees: i / 10,
    },
    engineState: { candle: i, book: { cash: 10_000 - i }, seq: [1, 2, 3] },
    ...over,
  };
}

describe.each([
  ['pglite', freshPglite],
  ['postgres', freshPostgres],
] as const)('BotStore on %s', (_kind, open) => {
  let handle: TestDatabase;
  let store: BotStore;

  beforeAll(async () => {
    handle = await open();
    await migrate(handle.db);
    store = new BotStore(handle.db);
  }, 60_000);
  afterAll(() => handle?.dispose());

  const count = async (table: string, botKey: string): Promise<number> => {
    const rows = await handle.db.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${table} x JOIN bots b ON b.id = x.bot_id WHERE b.name = $1`,
      [botKey],
    );
    return Number(rows[0]?.n);
  };

  it('creates a bot inactive with its virtual balance as cash, and keeps status and cash on a new config', async () => {
    const c = botConfig('alpha');
    const id = await store.upsertBot(c);
    expect(id).toBeGreaterThan(0);
    expect(await store.loadBot('alpha')).toMatchObject({
      id,
      botKey: 'alpha',
      status: 'inactive',
      strategyName: 'ema_crossover',
      symbol: 'BTC-USDT',
      timeframe: '1m',
      configFile: 'config/bots/alpha.json',
      configHash: c.contentHash,
      config: { bot_id: 'alpha', strategy: 'ema_crossover', virtual_balance: 10_000, enabled: true },
      virtualBalance: 10_000,
      cash: 10_000,
      totalValue: 10_000,
      engineState: undefined,
      epoch: 1,
      restarts: [],
    });
    await store.setStatus('alpha', 'active');
    await store.recordCandle('alpha', step(1));
    const changed = botConfig('alpha', { symbol: 'ETH-USDT', virtual_balance: 500, timeframe: '5m' });
    expect(await store.upsertBot(changed)).toBe(id);
    expect(await store.loadBot('alpha')).toMatchObject({
      status: 'active',
      symbol: 'ETH-USDT',
      timeframe: '5m',
      virtualBalance: 500,
      cash: 9_999,
      configHash: changed.contentHash,
    });
  });

  it('applyConfig records history only for a new or changed configuration; recordConfig always', async () => {
    expect(await store.applyConfig(botConfig('beta'), 'file')).toMatchObject({ changed: true });
    expect(await store.applyConfig(botConfig('beta'), 'file')).toMatchObject({ changed: false });
    const v2 = botConfig('beta', { parameters: { fast_period: 5, slow_period: 13 } });
    expect(await store.applyConfig(v2, 'reload')).toMatchObject({ changed: true });
    await store.recordConfig('beta', v2, 'reset');
    const history = await store.configHistory('beta');
    expect(history.map((h) => h.reason)).toEqual(['reset', 'reload', 'file']);
    expect(history[0]).toMatchObject({
      sourceFile: 'config/bots/beta.json',
      contentHash: v2.contentHash,
      config: { parameters: { fast_period: 5, slow_period: 13, timeframe: '1m', atr_period: 14 } },
    });
    expect(history[2]?.appliedAtMs).toBeLessThanOrEqual(history[0]?.appliedAtMs as number);
    await expect(store.recordConfig('nobody', v2, 'api')).rejects.toBeInstanceOf(UnknownBotError);
  });

  it('sets a status with its message, and refuses an unknown bot or status', async () => {
    await store.upsertBot(botConfig('gamma'));
    await store.setStatus('gamma', 'error', 'config/bots/gamma.json: symbol: …');
    expect(await store.loadBot('gamma')).toMatchObject({
      status: 'error',
      statusMessage: 'config/bots/gamma.json: symbol: …',
    });
    await store.setStatus('gamma', 'paused');
    expect((await store.loadBot('gamma'))?.statusMessage).toBeUndefined();
    await expect(store.setStatus('nobody', 'active')).rejects.toThrow('no bot "nobody" in the database');
    await expect(store.setStatus('gamma', 'stopped' as BotStatus)).rejects.toThrow(
      'bot status must be one of active, inactive, paused, error, got "stopped"',
    );
    expect(await store.loadBot('nobody')).toBeUndefined();
  });

  it('records a candle in one go: signal, fills, positions, performance and the bot row', async () => {
    await store.upsertBot(botConfig('delta'));
    const entry = fill(1, { signalTimeMs: T0 });
    await store.recordCandle('delta', step(0));
    const result = await store.recordCandle(
      'delta',
      step(1, {
        fills: [entry],
        positions: [
          {
            symbol: 'BTC-USDT',
            side: 'long',
            qty: 0.01234567,
            avgEntryPrice: 61837.63,
            entryTimeMs: entry.timeMs,
            entryFees: 0.76344321,
            lastPrice: 61850.5,
            stopLoss: 61200.12,
            takeProfit: [{ price: 62500, fraction: 0.5, done: false }],
            trailingStop: { activation: 0.01, offset: 0.005, best: 61850.5 },
          },
        ],
        engineState: {
          exact: 0.1 + 0.2,
          tiny: [1e-7, 5e-324, 2 ** -40],
          huge: [1.7976931348623157e308, 2 ** 53 + 2, 123456789.12345678],
          nested: { orders: [{ id: 7 }] },
        },
      }),
    );
    expect(result).toEqual({ recorded: true, fillsWritten: 1 });

    const bot = await store.loadBot('delta');
    expect(bot).toMatchObject({
      cash: 9_999,
      totalValue: 10_001,
      lastCandleMs: T0 + MIN,
      // Every double comes back bit for bit: the snapshot is what a restart continues from.
      engineState: {
        exact: 0.30000000000000004,
        tiny: [1e-7, 5e-324, 2 ** -40],
        huge: [1.7976931348623157e308, 2 ** 53 + 2, 123456789.12345678],
        nested: { orders: [{ id: 7 }] },
      },
    });
    expect(bot?.lastHeartbeatMs).toBeGreaterThan(Date.now() - 600_000);

    const signals = await store.signals('delta');
    expect(signals.map(({ id: _id, ...s }) => s)).toEqual([step(0).signals[0], step(1).signals[0]]);
    const [trade] = await store.trades('delta');
    expect(trade).toEqual({
      ...entry,
      signalTimeMs: undefined,
      id: trade?.id,
      epoch: 1,
      signalId: signals[0]?.id,
    });
    expect(await store.positions('delta')).toEqual([
      {
        symbol: 'BTC-USDT',
        side: 'long',
        qty: 0.01234567,
        avgEntryPrice: 61837.63,
        entryTimeMs: entry.timeMs,
        entryFees: 0.76344321,
        lastPrice: 61850.5,
        stopLoss: 61200.12,
        takeProfit: [{ price: 62500, fraction: 0.5, done: false }],
        trailingStop: { activation: 0.01, offset: 0.005, best: 61850.5 },
      },
    ]);
    const perf = await store.performance('delta');
    expect(perf.map(({ id: _id, ...p }) => p)).toEqual([
      { timeMs: T0, ...step(0).performance },
      { timeMs: T0 + MIN, ...step(1).performance },
    ]);
  });

  it('replaces the positions each candle: a closed one goes, a new one comes', async () => {
    await store.upsertBot(botConfig('epsilon'));
    const pos = (symbol: string, qty: number) => ({
      symbol,
      side: 'long' as const,
      qty,
      avgEntryPrice: 100,
      entryTimeMs: T0,
    });
    await store.recordCandle('epsilon', step(1, { positions: [pos('BTC-USDT', 1)] }));
    await store.recordCandle('epsilon', step(2, { positions: [pos('BTC-USDT', 0.5)] }));
    expect((await store.positions('epsilon')).map((p) => [p.symbol, p.qty])).toEqual([['BTC-USDT', 0.5]]);
    await store.recordCandle('epsilon', step(3, { positions: [] }));
    expect(await store.positions('epsilon')).toEqual([]);
    await store.recordCandle('epsilon', step(4, { positions: [pos('ETH-USDT', 2), pos('BTC-USDT', 1)] }));
    expect((await store.positions('epsilon')).map((p) => p.symbol)).toEqual(['BTC-USDT', 'ETH-USDT']);
  });

  it('a replayed candle writes nothing at all, and a fill already stored is never written twice', async () => {
    await store.upsertBot(botConfig('zeta'));
    const partials = [
      fill(1, { orderId: 3, qty: 0.5, purpose: 'take_profit', side: 'sell', liquidity: 'maker' }),
      fill(2, { orderId: 3, qty: 0.25, purpose: 'take_profit', side: 'sell', liquidity: 'maker' }),
    ];
    expect(await store.recordCandle('zeta', step(1, { fills: partials }))).toEqual({
      recorded: true,
      fillsWritten: 2,
    });
    const before = await Promise.all(['signals', 'trades', 'bot_performance'].map((t) => count(t, 'zeta')));
    // The same candle again (a crash after commit, replayed): nothing, not even its signal or performance.
    expect(await store.recordCandle('zeta', step(1, { fills: partials }))).toEqual({
      recorded: false,
      fillsWritten: 0,
    });
    expect(await store.recordCandle('zeta', step(0))).toEqual({ recorded: false, fillsWritten: 0 });
    expect(await Promise.all(['signals', 'trades', 'bot_performance'].map((t) => count(t, 'zeta')))).toEqual(
      before,
    );
    expect((await store.loadBot('zeta'))?.lastCandleMs).toBe(T0 + MIN);
    // A later candle carrying an already stored fill again (and two fills of no order: id 0).
    const closing = [fill(3, { orderId: 0, purpose: 'exit' }), fill(4, { orderId: 0, purpose: 'exit' })];
    expect(await store.recordCandle('zeta', step(2, { fills: [partials[1]!, ...closing] }))).toEqual({
      recorded: true,
      fillsWritten: 2,
    });
    const trades = await store.trades('zeta');
    expect(trades.map((t) => [t.seq, t.orderId, t.purpose])).toEqual([
      [1, 3, 'take_profit'],
      [2, 3, 'take_profit'],
      [3, 0, 'exit'],
      [4, 0, 'exit'],
    ]);
  });

  it('is one transaction: a bad row leaves nothing of the candle behind', async () => {
    await store.upsertBot(botConfig('eta'));
    await store.recordCandle('eta', step(1));
    const bad = step(2, { fills: [fill(1, { side: 'hold' as BotFillRecord['side'] })] });
    await expect(store.recordCandle('eta', bad)).rejects.toThrow();
    expect((await store.loadBot('eta'))?.lastCandleMs).toBe(T0 + MIN);
    expect(await count('signals', 'eta')).toBe(1);
    expect(await count('bot_performance', 'eta')).toBe(1);
    await expect(store.recordCandle('nobody', step(1))).rejects.toBeInstanceOf(UnknownBotError);
  });

  it('records many bots in one statement; a bad record fails alone, the others are written', async () => {
    for (const k of ['lambda', 'mu', 'nu']) await store.upsertBot(botConfig(k));
    const results = await store.recordCandles([
      { botKey: 'lambda', step: step(1, { fills: [fill(1)] }) },
      { botKey: 'mu', step: step(1) },
      { botKey: 'nobody', step: step(1) },
    ]);
    expect(results).toEqual([
      { botKey: 'lambda', recorded: true, fillsWritten: 1 },
      { botKey: 'mu', recorded: true, fillsWritten: 0 },
      { botKey: 'nobody', recorded: false, fillsWritten: 0, error: expect.any(UnknownBotError) as unknown },
    ]);
    expect((await store.loadBot('lambda'))?.lastCandleMs).toBe(T0 + MIN);

    const bad = step(2, { fills: [fill(2, { side: 'hold' as BotFillRecord['side'] })] });
    const mixed = await store.recordCandles([
      { botKey: 'lambda', step: step(2, { fills: [fill(2)] }) },
      { botKey: 'mu', step: bad },
      { botKey: 'nu', step: step(2) },
    ]);
    expect(mixed.map((r) => [r.botKey, r.recorded, r.fillsWritten, r.error !== undefined])).toEqual([
      ['lambda', true, 1, false],
      ['mu', false, 0, true],
      ['nu', true, 0, false],
    ]);
    expect((await store.loadBot('mu'))?.lastCandleMs).toBe(T0 + MIN);
    expect(await count('signals', 'mu')).toBe(1);
    expect(await count('trades', 'lambda')).toBe(2);
    // A replay of the whole batch writes nothing.
    const again = await store.recordCandles([
      { botKey: 'lambda', step: step(2, { fills: [fill(2)] }) },
      { botKey: 'nu', step: step(2) },
    ]);
    expect(again.map((r) => r.recorded)).toEqual([false, false]);
    expect(await store.recordCandles([])).toEqual([]);
  });

  it('writes several records of a bot in one statement, as if one after the other (a backlog)', async () => {
    for (const k of ['xi', 'omicron']) await store.upsertBot(botConfig(k));
    const pos = (symbol: string, qty: number) => ({
      symbol,
      side: 'long' as const,
      qty,
      avgEntryPrice: 100,
      entryTimeMs: T0,
    });
    await store.recordCandle('xi', step(1, { positions: [pos('ETH-USDT', 1)] }));
    // The entry's signal (candle 2) and its fill (candle 3) come in the same statement.
    const entry = fill(1, { signalTimeMs: T0 + 2 * MIN, timeMs: T0 + 3 * MIN });
    const results = await store.recordCandles([
      { botKey: 'xi', step: step(1) }, // recorded already: skipped
      { botKey: 'omicron', step: step(2) },
      { botKey: 'xi', step: step(2, { positions: [pos('ETH-USDT', 1)] }) },
      { botKey: 'xi', step: step(3, { fills: [entry], positions: [pos('BTC-USDT', 0.5)] }) },
      { botKey: 'omicron', step: step(3) },
    ]);
    expect(results).toEqual([
      { botKey: 'xi', recorded: false, fillsWritten: 0 },
      { botKey: 'omicron', recorded: true, fillsWritten: 0 },
      { botKey: 'xi', recorded: true, fillsWritten: 0 },
      { botKey: 'xi', recorded: true, fillsWritten: 1 },
      { botKey: 'omicron', recorded: true, fillsWritten: 0 },
    ]);
    const bot = await store.loadBot('xi');
    expect(bot).toMatchObject({ lastCandleMs: T0 + 3 * MIN, cash: 9_997, engineState: step(3).engineState });
    expect((await store.performance('xi')).map((p) => p.timeMs)).toEqual([
      T0 + MIN,
      T0 + 2 * MIN,
      T0 + 3 * MIN,
    ]);
    const signals = await store.signals('xi');
    expect(signals.map((s) => s.closeTimeMs)).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
    const [trade] = await store.trades('xi');
    expect(trade?.signalId).toBe(signals[1]?.id);
    // The positions are the newest record's: ETH-USDT closed, BTC-USDT opened.
    expect((await store.positions('xi')).map((p) => [p.symbol, p.qty])).toEqual([['BTC-USDT', 0.5]]);
    expect(await count('bot_performance', 'omicron')).toBe(2);

    // A bad record fails its bot's whole batch; the other bot's records are written.
    const bad = step(5, { fills: [fill(2, { side: 'hold' as BotFillRecord['side'] })] });
    const mixed = await store.recordCandles([
      { botKey: 'xi', step: step(4) },
      { botKey: 'omicron', step: step(4) },
      { botKey: 'xi', step: bad },
    ]);
    expect(mixed.map((r) => [r.botKey, r.recorded, r.error !== undefined])).toEqual([
      ['xi', false, true],
      ['omicron', true, false],
      ['xi', false, true],
    ]);
    expect((await store.loadBot('xi'))?.lastCandleMs).toBe(T0 + 3 * MIN);
    expect(await count('bot_performance', 'xi')).toBe(3);
    expect((await store.loadBot('omicron'))?.lastCandleMs).toBe(T0 + 4 * MIN);
  });

  it('a reset starts a new epoch from the virtual balance; fills number from 1 again; history stays', async () => {
    await store.upsertBot(botConfig('theta', { virtual_balance: 1000 }));
    await store.recordCandle(
      'theta',
      step(1, {
        fills: [fill(1)],
        positions: [{ symbol: 'BTC-USDT', side: 'long', qty: 1, avgEntryPrice: 100, entryTimeMs: T0 }],
      }),
    );
    expect((await store.listBots()).find((b) => b.botKey === 'theta')?.trades).toBe(1);
    await store.resetBot('theta');
    expect(await store.loadBot('theta')).toMatchObject({
      epoch: 2,
      cash: 1000,
      totalValue: 1000,
      engineState: undefined,
      lastCandleMs: T0 + MIN,
    });
    expect(await store.positions('theta')).toEqual([]);
    expect((await store.listBots()).find((b) => b.botKey === 'theta')).toMatchObject({ trades: 0, pnl: 0 });
    expect(await store.recordCandle('theta', step(2, { fills: [fill(1, { timeMs: T0 + MIN })] }))).toEqual({
      recorded: true,
      fillsWritten: 1,
    });
    expect((await store.trades('theta')).map((t) => [t.epoch, t.seq])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    await expect(store.resetBot('nobody')).rejects.toBeInstanceOf(UnknownBotError);
  });

  it('keeps the last 100 restarts, oldest first', async () => {
    await store.upsertBot(botConfig('iota'));
    for (let i = 0; i < 102; i++) await store.recordRestart('iota', T0 + i, `Error: boom ${i}\n    at x`);
    const restarts = (await store.loadBot('iota'))?.restarts ?? [];
    expect(restarts).toHaveLength(100);
    expect(restarts[0]).toEqual({ atMs: T0 + 2, error: 'Error: boom 2\n    at x' });
    expect(restarts[99]).toEqual({ atMs: T0 + 101, error: 'Error: boom 101\n    at x' });
    await expect(store.recordRestart('nobody', T0, 'x')).rejects.toBeInstanceOf(UnknownBotError);
  });

  it('lists every bot by key with cash, total value, P&L, fills and times', async () => {
    const list = await store.listBots();
    expect(list.map((b) => b.botKey)).toEqual([...list.map((b) => b.botKey)].sort());
    expect(list.find((b) => b.botKey === 'delta')).toEqual({
      botKey: 'delta',
      status: 'inactive',
      strategyName: 'ema_crossover',
      symbol: 'BTC-USDT',
      timeframe: '1m',
      virtualBalance: 10_000,
      cash: 9_999,
      totalValue: 10_001,
      pnl: 1,
      trades: 1,
      lastCandleMs: T0 + MIN,
      lastHeartbeatMs: expect.any(Number) as unknown,
    });
    const gamma = list.find((b) => b.botKey === 'gamma');
    expect(gamma).toMatchObject({ status: 'paused', cash: 10_000, pnl: 0, trades: 0 });
    expect(gamma).not.toHaveProperty('lastCandleMs');
  });

  it('reads pages by time: from/to, limit, a cursor, newest first', async () => {
    await store.upsertBot(botConfig('kappa'));
    for (let i = 1; i <= 6; i++) await store.recordCandle('kappa', step(i));
    const times = (rows: { closeTimeMs: number }[]) => rows.map((r) => (r.closeTimeMs - T0) / MIN);
    expect(times(await store.signals('kappa', { fromMs: T0 + 2 * MIN, toMs: T0 + 5 * MIN }))).toEqual([
      2, 3, 4,
    ]);
    const first = await store.signals('kappa', { limit: 4 });
    expect(times(first)).toEqual([1, 2, 3, 4]);
    const last = first[3]!;
    expect(times(await store.signals('kappa', { after: { timeMs: last.closeTimeMs, id: last.id } }))).toEqual(
      [5, 6],
    );
    expect(times(await store.signals('kappa', { order: 'desc', limit: 2 }))).toEqual([6, 5]);
    const perf = await store.performance('kappa', { order: 'desc', toMs: T0 + 4 * MIN, limit: 2 });
    expect(perf.map((p) => (p.timeMs - T0) / MIN)).toEqual([3, 2]);
    await expect(store.signals('kappa', { limit: 0 })).rejects.toThrow(
      'limit must be a whole number ≥ 1, got 0',
    );
    expect(await store.signals('nobody')).toEqual([]);
  });
});
