import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveBacktestSettings } from '../../backtests/config.js';
import { botConfigDocument, validateBotFile, type BotConfig } from '../../src/bots/botConfig.js';
import {
  loadBotConfigFile,
  loadBotConfigs,
  type BotConfigError,
  type BotConfigResult,
} from '../../src/bots/botConfigFiles.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';

const REPO_CONFIG = fileURLToPath(new URL('../../config/', import.meta.url));

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rxtrade-bots-config-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh config folder with bots/ and strategies/ holding `files` (path → text). */
function configDir(files: Record<string, string>): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(join(dir, 'bots'), { recursive: true });
  mkdirSync(join(dir, 'strategies'), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const BASIC = {
  bot_id: 'btc-ema',
  strategy: 'EMA_Crossover',
  symbol: 'BTC-USDT',
  virtual_balance: 5000,
};

async function loadOne(name: string, body: unknown, extra: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const dir = configDir({ [`bots/${name}`]: text, ...extra });
  const file = join(dir, 'bots', name);
  return { dir, file, result: await loadBotConfigFile(file, dir) };
}

function config(r: BotConfigResult): BotConfig {
  if (r.kind !== 'config') throw new Error(`expected a config, got: ${r.message}`);
  return r.config;
}

function error(r: BotConfigResult): BotConfigError {
  if (r.kind !== 'error') throw new Error(`expected an error for ${r.file}`);
  return r;
}

describe('bot configuration files', () => {
  it('a minimal JSON file gets the backtest defaults, frozen, with its source and a content hash', async () => {
    const { file, result } = await loadOne('a.json', BASIC);
    const c = config(result);
    expect(c).toMatchObject({
      botId: 'btc-ema',
      strategyName: 'ema_crossover',
      symbol: 'BTC-USDT',
      timeframe: '1m',
      virtualBalance: 5000,
      enabled: true,
      reset: false,
      parameters: { timeframe: '1m', fast_period: 12, slow_period: 26, atr_period: 14 },
      source: file,
    });
    expect(c.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.risk)).toBe(true);
    expect(Object.isFrozen(c.risk.take_profit)).toBe(true);
    // The same risk and venue a backtest with no flags and no config gets.
    const backtest = resolveBacktestSettings({ strategy: 'ema_crossover' });
    expect(c.risk).toEqual(backtest.risk);
    expect(c.venue).toEqual(backtest.venue);
  });

  it('risk and venue are parsed exactly as a backtest --config parses them', async () => {
    const risk = {
      sizing: { type: 'risk', percentage: 1 },
      stop_loss_percentage: 2,
      take_profit: [{ percentage: 3, position_percentage: 50 }],
      trailing_stop: { activation_percentage: 1, offset_percentage: 0.5 },
    };
    const venue = { fee_rate: 0.002, slippage: { type: 'fixed', bps: 3 } };
    const { result } = await loadOne('r.json', { ...BASIC, risk, venue });
    const path = join(root, 'bt.json');
    writeFileSync(path, JSON.stringify({ strategy_name: 'ema_crossover', risk, venue }));
    const backtest = resolveBacktestSettings({ config: path });
    expect(config(result).risk).toEqual(backtest.risk);
    expect(config(result).venue).toEqual(backtest.venue);
  });

  it('YAML (.yaml and .yml) gives the same configuration as JSON', async () => {
    const yaml = `# a comment
bot_id: btc-ema
strategy: EMA_Crossover
symbol: BTC-USDT
virtual_balance: 5000
parameters:
  fast_period: 5
  slow_period: 13
risk:
  sizing: { type: equity, percentage: 95 }
  stop_loss_percentage: 1
`;
    const json = { ...BASIC, parameters: { fast_period: 5, slow_period: 13 } };
    const fromJson = config(
      (
        await loadOne('j.json', {
          ...json,
          risk: { sizing: { type: 'equity', percentage: 95 }, stop_loss_percentage: 1 },
        })
      ).result,
    );
    for (const name of ['y.yaml', 'y.yml']) {
      const c = config((await loadOne(name, yaml)).result);
      expect(botConfigDocument(c)).toEqual(botConfigDocument(fromJson));
    }
  });

  it('the document form is itself a valid bot file giving the same configuration', async () => {
    const c = config((await loadOne('d.json', { ...BASIC, reset: true, enabled: false })).result);
    const doc = botConfigDocument(c);
    const text = JSON.stringify(doc);
    const again = validateBotFile(JSON.parse(text), {
      source: 'db',
      text,
      registry: defaultStrategyRegistry(),
    });
    expect(botConfigDocument(again)).toEqual(doc);
  });

  it('strategy_file: found in strategies/, its parameters under the bot file’s, the bot timeframe winning', async () => {
    const strategies = {
      'strategies/fast.json': JSON.stringify({
        strategy_name: 'RSI_Reversion',
        parameters: { timeframe: '1m', period: 7, oversold: 25 },
      }),
    };
    const body = {
      bot_id: 'eth-rsi',
      strategy_file: 'fast.json',
      symbol: 'ETH-USDT',
      timeframe: '5m',
      virtual_balance: 1000,
      parameters: { oversold: 20 },
    };
    const { dir, result } = await loadOne('e.json', body, strategies);
    const c = config(result);
    expect(c.strategyName).toBe('rsi_reversion');
    expect(c.strategyFile).toBe(join(dir, 'strategies', 'fast.json'));
    expect(c.timeframe).toBe('5m');
    expect(c.parameters).toEqual({ timeframe: '5m', period: 7, oversold: 20, overbought: 70 });
  });

  it('strategy_file relative to the bot file, and the shipped strategy files work as they are', async () => {
    const { result } = await loadOne(
      'rel.json',
      { ...BASIC, strategy: undefined, strategy_file: 'mine/s.json' },
      { 'bots/mine/s.json': '{"strategy_name": "macd_trend"}' },
    );
    expect(config(result).strategyName).toBe('macd_trend');

    const shipped = join(REPO_CONFIG, 'bots');
    const file = join(root, 'shipped.json');
    writeFileSync(file, JSON.stringify({ ...BASIC, strategy: undefined, strategy_file: 'momentum.json' }));
    // The bot file is outside REPO_CONFIG here, so only the strategies/ lookup can find it.
    const c = config(await loadBotConfigFile(file, REPO_CONFIG));
    expect(c.strategyName).toBe('momentum');
    expect(c.parameters).toMatchObject({ trend_confirmation: true, trend_timeframe: '15m' });
    expect(shipped).toBeDefined();
  });

  it('the hash covers the strategy file: changing it changes the hash, rewriting the same text does not', async () => {
    const body = JSON.stringify({ ...BASIC, strategy: undefined, strategy_file: 's.json' });
    const dir = configDir({ 'bots/a.json': body, 'strategies/s.json': '{"strategy_name": "sma_cross"}' });
    const file = join(dir, 'bots', 'a.json');
    const h1 = config(await loadBotConfigFile(file, dir)).contentHash;
    writeFileSync(file, body);
    expect(config(await loadBotConfigFile(file, dir)).contentHash).toBe(h1);
    writeFileSync(
      join(dir, 'strategies', 's.json'),
      '{"strategy_name": "sma_cross", "parameters": {"fast_period": 5}}',
    );
    const c2 = config(await loadBotConfigFile(file, dir));
    expect(c2.contentHash).not.toBe(h1);
    expect(c2.parameters.fast_period).toBe(5);
  });

  it.each([
    ['../../../etc/passwd', /strategy_file "\.\.\/\.\.\/\.\.\/etc\/passwd" leads outside the config folder/],
    ['/etc/passwd', /strategy_file "\/etc\/passwd" must be a relative path/],
    ['nope.json', /strategy_file "nope\.json": no such file \(looked in .*bots and .*strategies\)/],
  ])('strategy_file %s is refused', async (ref, message) => {
    const { file, result } = await loadOne('x.json', { ...BASIC, strategy: undefined, strategy_file: ref });
    const e = error(result);
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    expect(e.message).toMatch(message);
    expect(e.botId).toBe('btc-ema');
  });

  it('a symbolic link out of the config folder is refused too', async () => {
    const outside = join(root, 'outside.json');
    writeFileSync(outside, '{"strategy_name": "sma_cross"}');
    const dir = configDir({
      'bots/l.json': JSON.stringify({ ...BASIC, strategy: undefined, strategy_file: 'link.json' }),
    });
    symlinkSync(outside, join(dir, 'strategies', 'link.json'));
    const e = error(await loadBotConfigFile(join(dir, 'bots', 'l.json'), dir));
    expect(e.message).toMatch(/strategy_file "link\.json" leads outside the config folder/);
  });

  it.each([
    [
      { ...BASIC, colour: 'red' },
      /: colour: unknown key \(accepted: bot_id, strategy, strategy_file, symbol, timeframe, virtual_balance, enabled, parameters, risk, venue, reset\)$/,
    ],
    [
      { ...BASIC, parameters: { fast_perod: 3 } },
      /: parameters\.fast_perod: unknown key \(accepted: timeframe, fast_period, slow_period, atr_period\)$/,
    ],
    [
      { ...BASIC, risk: { sizing: { type: 'fixed', quantiy: 1 } } },
      /: risk\.sizing\.quantity: Invalid input: expected number, received undefined; risk\.sizing\.quantiy: unknown key \(accepted: type, quantity\)$/,
    ],
    [
      { ...BASIC, risk: { take_profit: [{ percentage: 1, position_percentage: 50, at: 2 }] } },
      /: risk\.take_profit\.0\.at: unknown key \(accepted: percentage, position_percentage\)$/,
    ],
    [
      { ...BASIC, risk: { stop_los_percentage: 1 } },
      /: risk\.stop_los_percentage: unknown key \(accepted: sizing, scale_by_confidence, stop_loss_percentage, take_profit, trailing_stop, max_open_positions, min_order_size, min_notional, lot_size\)$/,
    ],
    [
      { ...BASIC, venue: { slippage: { type: 'random', max_bps: 2, seed: 1, x: 1 } } },
      /: venue\.slippage\.x: unknown key \(accepted: type, max_bps, seed\)$/,
    ],
    [
      { ...BASIC, risk: { sizing: { type: 'risk', percentage: 1 } } },
      /: risk\.stop_loss_percentage: sizing type "risk" needs stop_loss_percentage/,
    ],
    [{ ...BASIC, venue: { fee_rate: 2 } }, /: venue\.fee_rate: Too big/],
    [{ ...BASIC, virtual_balance: 0 }, /: virtual_balance: Too small/],
    [
      { ...BASIC, virtual_balance: '100' },
      /: virtual_balance: Invalid input: expected number, received string/,
    ],
    [
      { ...BASIC, symbol: 'btc-usdt' },
      /: symbol: use an OKX spot instrument id in upper case, such as BTC-USDT$/,
    ],
    [{ ...BASIC, timeframe: '2m' }, /: timeframe: Invalid option/],
    [{ ...BASIC, enabled: 'yes' }, /: enabled: Invalid input: expected boolean/],
    [
      { ...BASIC, strategy: 'ema_fast' },
      /: strategy: unknown strategy "ema_fast" \(known: EMA_Crossover, SMA_Cross, /,
    ],
    [
      { ...BASIC, strategy: undefined },
      /: give strategy \(one of ema_crossover, sma_cross, rsi_reversion, macd_trend, bollinger_breakout, momentum\) or strategy_file/,
    ],
    [{ ...BASIC, strategy_file: 'x.json' }, /: give strategy or strategy_file, not both$/],
    [
      { ...BASIC, timeframe: '5m', parameters: { timeframe: '1m' } },
      /: timeframe 5m and parameters\.timeframe 1m differ: give one$/,
    ],
    [{ ...BASIC, parameters: { fast_period: 30 } }, /: parameters/],
  ])('%j is an error naming the file and the key', async (body, message) => {
    const { file, result } = await loadOne('bad.json', body);
    const e = error(result);
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
    expect(e.botId).toBe('btc-ema');
  });

  it('a bot_id that could escape a channel or a path is refused, and not reported as the bot’s id', async () => {
    for (const id of ['../etc', 'Upper', 'a b', 'x*', '', 'a'.repeat(65), '-lead']) {
      const e = error((await loadOne('id.json', { ...BASIC, bot_id: id })).result);
      expect(e.message).toMatch(
        /: bot_id: use 1 to 64 lower-case letters, digits, "_" or "-", starting with a letter or digit/,
      );
      expect(e.botId).toBeUndefined();
    }
    expect(
      config((await loadOne('id.json', { ...BASIC, bot_id: `a${'_-9'.repeat(21)}` })).result).botId,
    ).toHaveLength(64);
  });

  it('a strategy file with a bad key is reported against the strategy file', async () => {
    const { dir, result } = await loadOne(
      's.json',
      { ...BASIC, strategy: undefined, strategy_file: 'bad.json' },
      { 'strategies/bad.json': '{"strategy_name": "sma_cross", "parameters": {"fats_period": 3}}' },
    );
    expect(error(result).message).toMatch(
      new RegExp(`^${join(dir, 'strategies', 'bad.json')}: parameters\\.fats_period: unknown key`),
    );
  });

  it('invalid JSON and YAML name the file (and the line for YAML) in one line', async () => {
    const j = await loadOne('broken.json', '{"bot_id": "x",');
    expect(error(j.result).message).toMatch(new RegExp(`^${j.file}: invalid JSON: `));
    const y = await loadOne('broken.yaml', 'bot_id: x\nsymbol: [BTC-USDT\nvirtual_balance: 1\n');
    expect(error(y.result).message).toMatch(
      new RegExp(`^${y.file}: invalid YAML: .*line \\d+, column \\d+$`),
    );
    const dup = await loadOne('dup.yaml', 'bot_id: x\nbot_id: y\n');
    expect(error(dup.result).message).toMatch(/invalid YAML: Map keys must be unique/);
    const empty = await loadOne('empty.yaml', '');
    expect(error(empty.result).message).toMatch(/: \(file\): Invalid input: expected object/);
  });
});

describe('loadBotConfigs', () => {
  it('loads a folder in file-name order: the good files as configs, each bad one as its own error', async () => {
    const dir = configDir({
      'bots/b.yaml': 'bot_id: second\nstrategy: sma_cross\nsymbol: ETH-USDT\nvirtual_balance: 100\n',
      'bots/a.json': JSON.stringify(BASIC),
      'bots/c.json': JSON.stringify({ ...BASIC, bot_id: 'third', virtual_balance: -1 }),
      'bots/notes.txt': 'not a bot',
      'bots/.hidden.json': '{',
      'bots/folder.json/x': 'a folder named like a bot file',
    });
    const results = await loadBotConfigs(dir);
    expect(results.map((r) => [r.kind, r.file])).toEqual([
      ['config', join(dir, 'bots', 'a.json')],
      ['config', join(dir, 'bots', 'b.yaml')],
      ['error', join(dir, 'bots', 'c.json')],
    ]);
    expect(results[2]).toMatchObject({
      botId: 'third',
      message: expect.stringMatching(/virtual_balance/) as unknown,
    });
  });

  it('two files with the same bot_id are both errors, each naming the other', async () => {
    const dir = configDir({
      'bots/one.json': JSON.stringify(BASIC),
      'bots/two.yml': 'bot_id: btc-ema\nstrategy: sma_cross\nsymbol: ETH-USDT\nvirtual_balance: 100\n',
      'bots/three.json': JSON.stringify({ ...BASIC, bot_id: 'other' }),
    });
    const [one, three, two] = await loadBotConfigs(dir);
    expect(error(one!).message).toBe(
      `${join(dir, 'bots', 'one.json')}: bot_id "btc-ema" is also used by ${join(dir, 'bots', 'two.yml')} (each bot needs its own bot_id)`,
    );
    expect(error(two!).message).toContain(`is also used by ${join(dir, 'bots', 'one.json')}`);
    expect(config(three!).botId).toBe('other');
  });

  it('a missing bots folder (or config folder) is no bots, not an error', async () => {
    expect(await loadBotConfigs(join(root, 'does-not-exist'))).toEqual([]);
  });

  it('the shipped demo bots are valid, use different strategies and both demo symbols', async () => {
    const results = await loadBotConfigs(REPO_CONFIG);
    const configs = results.map(config);
    expect(configs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(configs.map((c) => c.strategyName)).size).toBe(configs.length);
    expect(new Set(configs.map((c) => c.symbol))).toEqual(new Set(['BTC-USDT', 'ETH-USDT']));
    expect(configs.every((c) => c.enabled)).toBe(true);
  });
});
