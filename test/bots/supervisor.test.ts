import { jest } from '@jest/globals';
import { BotStore } from '../../src/storage/botStore.js';
import type { BotCandleRecord, RecordCandleResult } from '../../src/storage/botRecords.js';
import type { Database } from '../../src/storage/database.js';
import { RxtradeError } from '../../src/domain/errors.js';
import { collect } from '../bus/busTesting.js';
import { EMA_BOT, harness, MIN, RSI_BOT, T0, until, waveCandles, type Harness } from './support.js';

jest.setTimeout(180_000);

/**
 * A BotStore whose writes fail (or never finish) for chosen bots: the fault injection the supervisor
 * tests need. Everything else is the real store on the real database.
 */
class FaultyStore extends BotStore {
  readonly failing = new Set<string>();
  readonly hanging = new Set<string>();

  constructor(db: Database) {
    super(db);
  }

  override async recordCandle(botKey: string, step: BotCandleRecord): Promise<RecordCandleResult> {
    if (this.failing.has(botKey)) throw new RxtradeError('internal', `injected failure for ${botKey}`);
    if (this.hanging.has(botKey)) return new Promise<RecordCandleResult>(() => undefined);
    return super.recordCandle(botKey, step);
  }
}

const CRASHER = { ...EMA_BOT, bot_id: 'crasher' };
const btc = waveCandles('BTC-USDT', T0, 120, 60_000);

describe('supervisor (virtual time, PGlite)', () => {
  let h: Harness;
  let store: FaultyStore;
  afterEach(async () => h?.dispose());

  async function setup(bots: Record<string, unknown>): Promise<void> {
    // The faulty store needs the harness's database: build the harness, then a manager on the faulty store.
    h = await harness('pglite', {});
    store = new FaultyStore(h.db);
    for (const [name, doc] of Object.entries(bots)) await h.writeBot(name, doc);
    await h.restart({ store, restartDelayMs: 1000, batchRecords: false });
  }

  it('restarts a failing bot from its last state 3 times in an hour, then puts it in error; the others run on', async () => {
    await setup({ 'crasher.json': CRASHER, 'ema.json': EMA_BOT, 'rsi.json': RSI_BOT });
    const statuses = collect(h.bus, 'status:crasher');
    const system = collect(h.bus, 'system:events');
    await h.push(btc.slice(0, 20));
    store.failing.add('crasher');
    // Each failure is restarted after 1 s of virtual time; the restart fails again on the next candle.
    for (let i = 20; i < 60; i++) {
      await h.push([btc[i]!]);
      h.clock.advanceTo(h.clock.now() + 1000);
      await h.manager.settled();
    }
    const crasher = await h.store.loadBot('crasher');
    expect(crasher?.status).toBe('error');
    expect(crasher?.statusMessage).toMatch(
      /failed 4 times within an hour, last: injected failure for crasher/,
    );
    expect(crasher?.restarts).toHaveLength(3);
    // It kept what it had recorded before the failures.
    expect(crasher?.lastCandleMs).toBe(btc[19]!.closeTimeMs);
    const restartMessages = statuses.items.filter(
      (d) => d.message.type === 'status' && /restarting \(\d of 3/.test(d.message.message ?? ''),
    );
    expect(restartMessages).toHaveLength(3);
    await until('the error announcement', () =>
      system.items.some((d) => d.message.type === 'system' && d.message.event === 'bot-error'),
    );
    // The healthy bots processed every candle.
    for (const id of ['ema', 'rsi']) {
      const bot = await h.store.loadBot(id);
      expect(bot?.status).toBe('active');
      expect(bot?.lastCandleMs).toBe(btc[59]!.closeTimeMs);
      expect(await h.store.performance(id, { limit: 1000 })).toHaveLength(60);
    }
    const view = await h.manager.get('crasher');
    expect(view?.restartsLastHour).toBe(3);
    statuses.subscription.unsubscribe();
    system.subscription.unsubscribe();
  });

  it('counts restarts over a rolling hour: one failure an hour apart is restarted every time', async () => {
    await setup({ 'crasher.json': CRASHER });
    await h.push(btc.slice(0, 10));
    for (let k = 0; k < 5; k++) {
      store.failing.add('crasher');
      await h.push([btc[10 + k]!]);
      store.failing.delete('crasher');
      // 61 minutes later the restart happens and the older restarts have left the window.
      h.clock.advanceTo(h.clock.now() + 61 * MIN);
      await h.manager.settled();
    }
    const crasher = await h.store.loadBot('crasher');
    expect(crasher?.status).toBe('active');
    expect(crasher?.restarts).toHaveLength(5);
    // The last restart was 61 minutes ago.
    expect((await h.manager.get('crasher'))?.restartsLastHour).toBe(0);
    // Restarted from its snapshot, it caught up on what each failure skipped (the feed's recent candles).
    expect(crasher?.lastCandleMs).toBe(btc[14]!.closeTimeMs);
    expect(await h.store.performance('crasher', { limit: 1000 })).toHaveLength(15);
  });

  it('restarts a bot that stalls (its writes never finish) at the heartbeat check, from its last state', async () => {
    await setup({ 'crasher.json': CRASHER, 'ema.json': EMA_BOT });
    await h.push(btc.slice(0, 10));
    store.hanging.add('crasher');
    // The stalled bot's record never commits; `settled` would wait for it: feed without waiting for it.
    h.clock.advanceTo(btc[10]!.closeTimeMs);
    h.market.next(btc[10]!);
    await until(
      'ema took the candle',
      async () => (await h.store.loadBot('ema'))?.lastCandleMs === btc[10]!.closeTimeMs,
    );
    expect((await h.store.loadBot('crasher'))?.lastCandleMs).toBe(btc[9]!.closeTimeMs);
    store.hanging.delete('crasher');
    // Two heartbeat periods (30 s) later it has had work waiting for 90 s: restarted.
    h.clock.advanceTo(h.clock.now() + 120_000);
    await until('the restart', async () => (await h.store.loadBot('crasher'))?.restarts.length === 1);
    h.clock.advanceTo(h.clock.now() + 1000);
    await until(
      'the catch-up',
      async () => (await h.store.loadBot('crasher'))?.lastCandleMs === btc[10]!.closeTimeMs,
    );
    const crasher = await h.store.loadBot('crasher');
    expect(crasher?.status).toBe('active');
    expect(crasher?.restarts[0]?.error).toMatch(/stalled: no progress for \d+ s/);
    // No candle written twice, none lost: one performance row per candle.
    expect(await h.store.performance('crasher', { limit: 1000 })).toHaveLength(11);
  });
});
