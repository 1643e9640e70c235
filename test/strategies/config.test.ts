import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStrategyDir, loadStrategyFile, parseStrategyConfig } from '../../src/strategies/config.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';

const CONFIG_DIR = fileURLToPath(new URL('../../config/strategies/', import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxtrade-strategies-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a file in the temporary folder and loads it. */
function load(name: string, text: string): unknown {
  const path = join(dir, name);
  writeFileSync(path, text);
  return loadStrategyFile(path);
}

/** Expects loading `text` to fail with a UsageError whose message starts with the file's path. */
function expectError(name: string, text: string, message: RegExp): void {
  const path = join(dir, name);
  let error: unknown;
  try {
    load(name, text);
  } catch (err) {
    error = err;
  }
  expect(error).toMatchObject({ name: 'UsageError', code: 'usage' });
  const text2 = (error as Error).message;
  expect(text2.startsWith(`${path}: `)).toBe(true);
  expect(text2).toMatch(message);
}

describe('strategy files', () => {
  it('every file in config/strategies loads, one per built-in strategy', () => {
    const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.json'));
    const configs = loadStrategyDir(CONFIG_DIR);
    expect(configs).toHaveLength(files.length);
    expect(configs.map((c) => c.strategyName).sort()).toEqual(defaultStrategyRegistry().names().sort());
    for (const c of configs) {
      expect(c.strategy.name).toBe(c.strategyName);
      expect(Object.isFrozen(c.parameters)).toBe(true);
    }
  });

  it('the requirements example, with display-name spelling and missing parameters defaulted', () => {
    const c = parseStrategyConfig(
      '{"strategy_name": "EMA_Crossover", "parameters": {"fast_period": 9}}',
      'x.json',
    );
    expect(c.strategyName).toBe('ema_crossover');
    expect(c.parameters).toEqual({ timeframe: '1m', fast_period: 9, slow_period: 26, atr_period: 14 });
    expect(parseStrategyConfig('{"strategy_name": "momentum"}', 'y.json').parameters).toMatchObject({
      roc_periods: [1, 5, 15],
      roc_thresholds: [0.5, 1.0, 1.5],
      trend_confirmation: false,
    });
  });

  it('an unknown parameter names the file and the key, and lists the accepted ones', () => {
    expectError(
      'unknown-param.json',
      '{"strategy_name": "EMA_Crossover", "parameters": {"fast_period": 12, "fast_perod": 9}}',
      /: parameters\.fast_perod: unknown key \(accepted: timeframe, fast_period, slow_period, atr_period\)$/,
    );
  });

  it('an unknown top-level key names the file and the key', () => {
    expectError('unknown-top.json', '{"strategy_name": "sma_cross", "params": {}}', /: params: unknown key/);
  });

  it('a parameter of the wrong type names the file and the key', () => {
    expectError(
      'wrong-type.json',
      '{"strategy_name": "RSI_Reversion", "parameters": {"period": "14"}}',
      /: parameters\.period: .*expected number, received string/,
    );
    expectError(
      'not-integer.json',
      '{"strategy_name": "SMA_Cross", "parameters": {"fast_period": 2.5}}',
      /: parameters\.fast_period: /,
    );
    expectError(
      'bad-enum.json',
      '{"strategy_name": "momentum", "parameters": {"trend_timeframe": "2h"}}',
      /: parameters\.trend_timeframe: /,
    );
    expectError(
      'bad-array.json',
      '{"strategy_name": "momentum", "parameters": {"roc_thresholds": [0.5, "1"]}}',
      /: parameters\.roc_thresholds\.1: /,
    );
    expectError(
      'parameters-not-object.json',
      '{"strategy_name": "momentum", "parameters": [1]}',
      /: parameters: /,
    );
  });

  it('an unknown strategy name names the file and the key, and lists the known ones', () => {
    expectError(
      'unknown-strategy.json',
      '{"strategy_name": "Turtle", "parameters": {}}',
      /: strategy_name: unknown strategy "Turtle" \(known: EMA_Crossover, SMA_Cross, RSI_Reversion, MACD_Trend, Bollinger_Breakout, Momentum\)/,
    );
    expectError('no-name.json', '{"parameters": {}}', /: strategy_name: /);
  });

  it('invalid JSON names the file', () => {
    expectError('broken.json', '{"strategy_name": "EMA_Crossover", ', /: invalid JSON: /);
  });

  it('a missing file names the file', () => {
    expect(() => loadStrategyFile(join(dir, 'nope.json'))).toThrow(
      /nope\.json: cannot read the strategy file/,
    );
  });
});
