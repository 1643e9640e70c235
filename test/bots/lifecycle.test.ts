import { jest } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError, UsageError } from '../../src/domain/errors.js';
import { EMA_BOT, harness, RSI_BOT, T0, until, waveCandles, type Harness } from './support.js';

jest.setTimeout(180_000);

const btc = waveCandles('BTC-USDT', T0, 200, 60_000);

describe('bot lifecycle, hot reload and bad files (PGlite, virtual time)', () => {
  let h: Harness;
  afterEach(async () => h?.dispose());

  it('a paused bot opens nothing but still manages its open position; the status survives a restart', async () => {
    h = await harness('pglite', { 'ema.json': EMA_BOT });
    // Run until a position is open.
    let i = 0;
    while ((await h.store.positions('ema')).length === 0) await h.push([btc[i++]!]);
    const openedAt = i;
    await expect(h.manager.resume('ema')).rejects.toThrow(ConflictError);
    expect((await h.manager.pause('ema')).status).toBe('paused');
    await expect(h.manager.pause('ema')).rejects.toThrow(ConflictError);
    // The stored status is what a restart restores.
    await h.restart();
    expect((await h.store.loadBot('ema'))?.status).toBe('paused');
    expect((await h.manager.get('ema'))?.status).toBe('paused');
    const before = (await h.store.trades('ema', { limit: 1000 })).length;
    for (; i < 150; i++) await h.push([btc[i]!]);
    const paused = (await h.store.trades('ema', { limit: 1000 })).slice(before);
    // It closed the position it had (a sell or its stop), and bought nothing.
    expect(paused.length).toBeGreaterThan(0);
    expect(paused.every((f) => f.side === 'sell')).toBe(true);
    expect((await h.store.positions('ema')).length).toBe(0);
    const held = (await h.store.signals('ema', { limit: 1000 })).filter((s) =>
      /^paused \(would buy/.test(s.reason),
    );
    expect(held.length).toBeGreaterThan(0);
    expect(i).toBeGreaterThan(openedAt);

    expect((await h.manager.resume('ema')).status).toBe('active');
    const resumedAt = (await h.store.trades('ema', { limit: 1000 })).length;
    for (; i < btc.length; i++) await h.push([btc[i]!]);
    const after = (await h.store.trades('ema', { limit: 1000 })).slice(resumedAt);
    expect(after.some((f) => f.side === 'buy')).toBe(true);

    expect((await h.manager.stop('ema')).status).toBe('inactive');
    await expect(h.manager.stop('ema')).rejects.toThrow(ConflictError);
    await h.restart();
    expect((await h.manager.get('ema'))?.status).toBe('inactive');
    expect((await h.manager.start('ema')).status).toBe('active');
    await expect(h.manager.start('nope')).rejects.toThrow(NotFoundError);
  });

  it('hot reload: a changed file is applied, recorded in config_history, and keeps cash and positions', async () => {
    h = await harness('pglite', { 'ema.json': EMA_BOT }, { watch: { fsWatch: false, rescanMs: 30_000 } });
    let i = 0;
    while ((await h.store.positions('ema')).length === 0) await h.push([btc[i++]!]);
    const before = await h.store.loadBot('ema');
    await h.writeBot('ema.json', { ...EMA_BOT, parameters: { fast_period: 4, slow_period: 10 } });
    h.clock.advanceTo(h.clock.now() + 30_000);
    await until('the reload', async () => (await h.store.configHistory('ema')).length === 2);
    await h.manager.settled();
    const history = await h.store.configHistory('ema');
    expect(history.map((c) => c.reason)).toEqual(['reload', 'file']);
    expect((history[0]?.config as { parameters: Record<string, unknown> }).parameters).toMatchObject({
      fast_period: 4,
      slow_period: 10,
    });
    const view = await h.manager.get('ema');
    expect([view?.status, view?.statusMessage]).toEqual(['active', 'config applied (reload)']);
    expect((view?.config as { parameters: Record<string, unknown> }).parameters.fast_period).toBe(4);
    // The bot went on from its state: same cash, same position.
    const after = await h.store.loadBot('ema');
    expect(after?.cash).toBe(before?.cash);
    expect((await h.store.positions('ema')).length).toBe(1);
    await h.push(btc.slice(i, i + 5));
    expect((await h.store.loadBot('ema'))?.lastCandleMs).toBe(btc[i + 4]!.closeTimeMs);

    // reset: true starts over from virtual_balance (a new epoch).
    await h.writeBot('ema.json', { ...EMA_BOT, virtual_balance: 500, reset: true });
    h.clock.advanceTo(h.clock.now() + 30_000);
    await until('the reset', async () => (await h.store.configHistory('ema')).length === 3);
    await h.manager.settled();
    const reset = await h.store.loadBot('ema');
    expect(reset?.epoch).toBe(2);
    expect(reset?.cash).toBe(500);
    expect(await h.store.positions('ema')).toHaveLength(0);
    expect((await h.store.configHistory('ema'))[0]?.reason).toBe('reset');
  });

  it('a bad file puts its bot in error naming the file and key; the other bots run; fixing it restarts the bot', async () => {
    h = await harness(
      'pglite',
      { 'ema.json': EMA_BOT, 'rsi.json': RSI_BOT },
      { watch: { fsWatch: false, rescanMs: 30_000 } },
    );
    await h.push(btc.slice(0, 5));
    await h.writeBot('rsi.json', { ...RSI_BOT, risk: { sizing: { type: 'equity', percentge: 50 } } });
    h.clock.advanceTo(h.clock.now() + 30_000);
    await until('the error', async () => (await h.store.loadBot('rsi'))?.status === 'error');
    const rsi = await h.manager.get('rsi');
    expect(rsi?.statusMessage).toContain(join(h.dir, 'bots', 'rsi.json'));
    expect(rsi?.statusMessage).toMatch(/risk\.sizing\.percentge: unknown key/);
    await expect(h.manager.start('rsi')).rejects.toThrow(/no usable configuration/);
    await h.push(btc.slice(5, 10));
    expect((await h.store.loadBot('ema'))?.lastCandleMs).toBe(btc[9]!.closeTimeMs);
    expect((await h.store.loadBot('rsi'))?.lastCandleMs).toBe(btc[4]!.closeTimeMs);

    // A file that cannot even be read for a new bot: listed in error, nothing else stops.
    await h.writeBot('broken.yaml', 'bot_id: broken\nvirtual_balance: [\n');
    await h.writeBot('rsi.json', RSI_BOT);
    h.clock.advanceTo(h.clock.now() + 30_000);
    await until('the fix', async () => (await h.store.loadBot('rsi'))?.status === 'active');
    await h.manager.settled();
    // It caught up on the candles it missed (the feed's recent ones).
    expect((await h.store.loadBot('rsi'))?.lastCandleMs).toBe(btc[9]!.closeTimeMs);
    const list = await h.manager.list();
    expect(list.map((b) => b.botKey)).toEqual(['ema', 'rsi']);

    // Removing a file stops its bot.
    await rm(join(h.dir, 'bots', 'ema.json'));
    h.clock.advanceTo(h.clock.now() + 30_000);
    await until('the removal', async () => (await h.store.loadBot('ema'))?.status === 'inactive');
  });

  it('a running bot whose file is gone when the process starts again is stopped, with the reason', async () => {
    h = await harness('pglite', { 'ema.json': EMA_BOT, 'rsi.json': RSI_BOT });
    await h.push(btc.slice(0, 3));
    await h.manager.close();
    await rm(join(h.dir, 'bots', 'ema.json'));
    await h.restart();
    const ema = await h.manager.get('ema');
    expect(ema?.status).toBe('inactive');
    expect(ema?.statusMessage).toMatch(/no config file for it in .*bots/);
    expect((await h.manager.get('rsi'))?.status).toBe('active');
  });

  it('create and updateConfig write the file, record the config (reason api) and apply it', async () => {
    h = await harness('pglite', {}, { watch: { fsWatch: false, rescanMs: 30_000 } });
    const view = await h.manager.create({ ...EMA_BOT, bot_id: 'api-bot' });
    expect(view.status).toBe('active');
    expect(view.configFile).toBe(join(h.dir, 'bots', 'api-bot.json'));
    await expect(h.manager.create({ ...EMA_BOT, bot_id: 'api-bot' })).rejects.toThrow(ConflictError);
    await expect(h.manager.create({ ...EMA_BOT, bot_id: 'x', virtual_balance: -1 })).rejects.toThrow(
      /virtual_balance/,
    );
    await expect(h.manager.updateConfig('api-bot', { ...EMA_BOT, bot_id: 'other' })).rejects.toThrow(
      UsageError,
    );
    await h.manager.updateConfig('api-bot', { ...EMA_BOT, bot_id: 'api-bot', enabled: false });
    expect((await h.manager.get('api-bot'))?.status).toBe('inactive');
    // The rescan sees the files the manager wrote: nothing new to apply.
    h.clock.advanceTo(h.clock.now() + 30_000);
    await h.manager.settled();
    expect((await h.store.configHistory('api-bot')).map((c) => c.reason)).toEqual(['api', 'api']);
  });
});
