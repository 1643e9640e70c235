import { basename, join } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../../domain/errors.js';
import { OkxSimulator, type SimInstrument, type SimStats } from '../../sim/okxSimulator.js';
import type { SimFaults } from '../../sim/faults.js';
import { readCandleCsv } from '../../streams/candleCsv.js';
import type { CandleLabel } from '../../streams/candleCsvParser.js';
import { describeDuplicates, readTradeCsv, symbolFromFileName } from '../../streams/tradeCsv.js';
import type { CliIo } from '../io.js';
import { packageRoot } from '../packageRoot.js';
import { checkSpeedBound, MAX_SPEED } from '../speed.js';

const SAMPLE_TRADES = [
  'samples/binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv',
  'samples/binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv',
];
/** Trades kept per instrument for REST and ground truth: enough for backfills, bounded for long demos. */
const STORED_TRADES = 200_000;

/** One data file and the flags that followed it (`--symbol`, and for candles `--label`, `--seed`). */
interface DataFlag {
  readonly kind: 'trades' | 'candles';
  readonly file: string;
  symbol?: string;
  label?: CandleLabel;
  seed?: number;
}

interface OkxSimOptions {
  readonly port: string;
  readonly host: string;
  readonly speed: string;
  readonly loop: boolean;
  readonly rateLimits: boolean;
  readonly dropEvery?: string;
  readonly stallEvery?: string;
  readonly stallFor?: string;
  readonly noticeEvery?: string;
  readonly noticeGrace?: string;
  readonly garbageRate?: string;
  readonly duplicateRate?: string;
  readonly faultSeed?: string;
  readonly historyTrades?: string;
  readonly statsEvery: string;
  readonly verbose?: boolean;
}

export function registerOkxSim(program: Command, io: CliIo): void {
  // Data flags pair up by position (`--trades A --symbol X --candles B --symbol Y`): commander calls the
  // parsers in command-line order, so each `--symbol` attaches to the file flag just before it.
  const data: DataFlag[] = [];
  const addFile = (kind: DataFlag['kind']) => (file: string) => {
    data.push({ kind, file });
    return file;
  };
  const attach = (flag: string, set: (d: DataFlag, value: string) => void, kinds: DataFlag['kind'][]) => {
    return (value: string) => {
      const last = data[data.length - 1];
      if (last === undefined || !kinds.includes(last.kind)) {
        const after = kinds.map((k) => `--${k} FILE`).join(' or ');
        throw new UsageError(`${flag} ${value}: ${flag} must follow ${after} (it applies to that file)`);
      }
      set(last, value);
      return value;
    };
  };

  program
    .command('okx-sim')
    .description(
      'Run a local OKX v5 exchange (WebSocket /ws/v5/public and /ws/v5/business, REST /api/v5) replaying recorded trades, or trades synthesized from 1m candles, at any speed, with optional fault injection.',
    )
    .option(
      '--trades <file>',
      'trade CSV to replay (repeatable; the format of `rxtrade candles`)',
      addFile('trades'),
    )
    .option('--candles <file>', '1m candle CSV to synthesize trades from (repeatable)', addFile('candles'))
    .option(
      '--symbol <instId>',
      'OKX instrument id of the file just before, e.g. BTC-USDT (default: from the file)',
      attach('--symbol', (d, v) => (d.symbol = v), ['trades', 'candles']),
    )
    .option(
      '--label <open|close>',
      'whether the candle file just before stamps candles by open or close time',
      attach('--label', (d, v) => (d.label = parseLabel(v)), ['candles']),
    )
    .option(
      '--seed <n>',
      'seed for synthesizing trades from the candle file just before (default 1)',
      attach('--seed', (d, v) => (d.seed = parseNumber('--seed', v, { integer: true, min: 0 })), ['candles']),
    )
    .option('--port <port>', 'port for WebSocket and REST (0 = any free port)', '8443')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--speed <x>', `how many times faster than real time to replay (at most ${MAX_SPEED})`, '1')
    .option(
      '--no-loop',
      'stop generating trades when the data ends (default: start over, ids and times moving on)',
    )
    .option('--drop-every <s>', 'fault: terminate every connection every S seconds (no close frame)')
    .option(
      '--stall-every <s>',
      'fault: every S seconds, send nothing (no pushes, no pong) on every connection',
    )
    .option('--stall-for <s>', 'how long each stall lasts', '35')
    .option('--notice-every <s>', 'fault: every S seconds, send the 64008 service notice, then close')
    .option('--notice-grace <s>', 'seconds between the notice and the close', '60')
    .option('--garbage-rate <p>', 'fault: probability that a push is preceded by a malformed frame')
    .option('--duplicate-rate <p>', 'fault: probability that a trades push is sent twice')
    .option('--fault-seed <n>', 'seed of every random fault choice', '1')
    .option(
      '--history-trades <n>',
      'how many of the newest trades REST history-trades can reach (default: all kept)',
    )
    .option(
      '--no-rate-limits',
      "turn off OKX's rate limits (REST per endpoint, 3 connections/s, 480 ops/hour)",
    )
    .addOption(new Option('--stats-every <s>', 'seconds between stats lines on stderr').default('10'))
    .option('--verbose', 'log connections and faults on stderr')
    .addHelpText(
      'after',
      `
With no --trades or --candles it serves the bundled samples (BTC-USDT and ETH-USDT, 11 minutes each).
Point a client at ws://HOST:PORT/ws/v5/public, ws://HOST:PORT/ws/v5/business and http://HOST:PORT.

Examples:
  rxtrade okx-sim --trades trades.csv --symbol ETH-USDT --port 8443
  rxtrade okx-sim --candles BTC_USDT-1m.csv --symbol BTC-USDT --label open --speed 60 --drop-every 30`,
    )
    .action(async (options: OkxSimOptions) => {
      await runOkxSim(options, data, io);
    });
}

async function runOkxSim(options: OkxSimOptions, data: readonly DataFlag[], io: CliIo): Promise<void> {
  const say = (text: string): void => {
    io.stderr.write(`rxtrade okx-sim: ${text}\n`);
  };
  const port = parseNumber('--port', options.port, { integer: true, min: 0, max: 65535 });
  const speed = parseNumber('--speed', options.speed, { min: 0, exclusiveMin: true });
  checkSpeedBound(speed);
  const statsEverySec = parseNumber('--stats-every', options.statsEvery, { min: 0, exclusiveMin: true });
  const seconds = (flag: string, v: string | undefined) =>
    v === undefined ? undefined : parseNumber(flag, v, { min: 0, exclusiveMin: true });
  const probability = (flag: string, v: string | undefined) =>
    v === undefined ? undefined : parseNumber(flag, v, { min: 0, max: 1 });
  const faults: SimFaults = dropUndefined({
    dropEverySec: seconds('--drop-every', options.dropEvery),
    stallEverySec: seconds('--stall-every', options.stallEvery),
    stallForSec: seconds('--stall-for', options.stallFor),
    noticeEverySec: seconds('--notice-every', options.noticeEvery),
    noticeGraceSec: seconds('--notice-grace', options.noticeGrace),
    garbageRate: probability('--garbage-rate', options.garbageRate),
    duplicateRate: probability('--duplicate-rate', options.duplicateRate),
    seed: parseNumber('--fault-seed', options.faultSeed ?? '1', { integer: true, min: 0 }),
  });
  const historyTrades =
    options.historyTrades === undefined
      ? undefined
      : parseNumber('--history-trades', options.historyTrades, { integer: true, min: 0 });

  const sources: DataFlag[] =
    data.length > 0
      ? [...data]
      : SAMPLE_TRADES.map((f) => ({ kind: 'trades', file: join(packageRoot(), f) }));
  const instruments: SimInstrument[] = [];
  const described: string[] = [];
  for (const source of sources) {
    for (const loaded of await load(source)) {
      if (instruments.some((i) => i.instId === loaded.instrument.instId)) {
        throw new UsageError(`${loaded.instrument.instId} is given twice (one --symbol per instrument)`);
      }
      instruments.push(loaded.instrument);
      described.push(loaded.description);
    }
  }

  const sim = new OkxSimulator({
    host: options.host,
    port,
    instruments,
    speed,
    loop: options.loop,
    faults,
    rateLimits: options.rateLimits,
    maxStoredTrades: Math.max(STORED_TRADES, historyTrades ?? 0),
    ...(historyTrades !== undefined ? { historyTradesLimit: historyTrades } : {}),
    ...(options.verbose ? { logger: (line: string) => say(line) } : {}),
    // Always said: a client falling behind (rate-limited to one line every 10 s).
    warn: (line: string) => say(line),
  });
  let address;
  try {
    address = await sim.start();
  } catch (err) {
    await sim.stop();
    if (err instanceof UsageError)
      throw new UsageError(`${err.message} (choose another with --port or --host)`);
    throw err;
  }
  const startedMs = Date.now();
  say(
    `serving ${instruments.map((i) => i.instId).join(', ')} on ${address.wsPublicUrl}, ${address.wsBusinessUrl} and ${address.restUrl} (REST)`,
  );
  for (const line of described) say(line);
  say(`speed ${speed}×, ${options.loop ? 'looping' : 'no loop'}${describeFaults(faults)}; Ctrl-C stops`);
  const timer = setInterval(() => say(statsLine(sim.stats())), statsEverySec * 1000);
  try {
    await io.interrupted;
  } finally {
    clearInterval(timer);
    await sim.stop();
  }
  say(`stopped after ${((Date.now() - startedMs) / 1000).toFixed(1)} s; ${statsLine(sim.stats())}`);
}

async function load(d: DataFlag): Promise<{ instrument: SimInstrument; description: string }[]> {
  const name = basename(d.file);
  const symbol = d.symbol?.trim().toUpperCase();
  if (symbol !== undefined && symbol.length === 0) throw new UsageError(`--symbol after ${d.file} is empty`);
  const guessed = symbol ?? symbolFromFileName(d.file);
  if (d.kind === 'candles') {
    if (guessed === undefined) {
      throw new UsageError(`cannot tell which instrument ${d.file} holds: add --symbol BASE-QUOTE after it`);
    }
    const file = await readCandleCsv(d.file, {
      symbol: guessed,
      ...(d.label !== undefined ? { label: d.label } : {}),
    });
    if (file.candles.length === 0) throw new UsageError(`no candles in ${d.file}`);
    const missing = file.gaps.reduce((s, g) => s + g.missing, 0);
    const gaps =
      file.gaps.length > 0 ? `; ${file.gaps.length} gaps (${missing} minutes) replayed as quiet time` : '';
    return [
      {
        instrument: { instId: guessed, candles: file.candles, seed: d.seed ?? 1 },
        description: `${guessed}: trades synthesized from ${file.candles.length} 1m candles in ${name} (${file.label} times, seed ${d.seed ?? 1})${gaps}`,
      },
    ];
  }
  const file = await readTradeCsv(d.file, {
    ...(symbol !== undefined ? { symbol } : {}),
    defaultSymbol: guessed ?? '',
    symbolHint: `add --symbol BASE-QUOTE after --trades ${d.file}`,
  });
  if (file.trades.length === 0) throw new UsageError(`no trades in ${d.file}`);
  const duplicates = describeDuplicates(file.duplicates);
  return file.symbols.map((instId, i) => {
    const trades = file.trades.filter((t) => t.symbol === instId);
    const spanMin = ((trades[trades.length - 1]?.tsMs ?? 0) - (trades[0]?.tsMs ?? 0)) / 60_000;
    return {
      instrument: { instId, trades },
      description:
        `${instId}: ${trades.length} recorded trades from ${name} (${spanMin.toFixed(1)} minutes a pass)` +
        (i === 0 && duplicates !== undefined ? `; ${name}: ${duplicates}` : ''),
    };
  });
}

function statsLine(s: SimStats): string {
  return (
    `${s.connections} connections (${s.connectionsTotal} in all), ${s.trades} trades, ${s.pushes} pushes, ` +
    `${s.restRequests} REST requests, ${s.rateLimited} rate-limited; faults: ${s.drops} drops, ${s.stalls} stalls, ` +
    `${s.notices} notices, ${s.garbageFrames} garbage frames, ${s.duplicates} duplicates`
  );
}

function describeFaults(f: SimFaults): string {
  const parts = [
    f.dropEverySec !== undefined ? `drop every ${f.dropEverySec} s` : '',
    f.stallEverySec !== undefined ? `stall ${f.stallForSec ?? 35} s every ${f.stallEverySec} s` : '',
    f.noticeEverySec !== undefined
      ? `notice every ${f.noticeEverySec} s (close ${f.noticeGraceSec ?? 60} s later)`
      : '',
    f.garbageRate ? `garbage ${f.garbageRate}` : '',
    f.duplicateRate ? `duplicates ${f.duplicateRate}` : '',
  ].filter((p) => p.length > 0);
  return parts.length > 0 ? `; faults: ${parts.join(', ')}` : '';
}

function parseLabel(text: string): CandleLabel {
  if (text === 'open' || text === 'close') return text;
  throw new UsageError(`--label must be open or close, got "${text}"`);
}

function parseNumber(
  flag: string,
  text: string,
  rule: { integer?: boolean; min?: number; max?: number; exclusiveMin?: boolean },
): number {
  const v = /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(text) ? Number(text) : NaN;
  const kind = rule.integer ? 'an integer' : 'a number';
  const range =
    rule.max !== undefined
      ? ` in ${rule.min ?? '-∞'}..${rule.max}`
      : rule.min !== undefined
        ? ` ${rule.exclusiveMin ? '>' : '≥'} ${rule.min}`
        : '';
  const ok =
    Number.isFinite(v) &&
    (!rule.integer || Number.isInteger(v)) &&
    (rule.min === undefined || (rule.exclusiveMin ? v > rule.min : v >= rule.min)) &&
    (rule.max === undefined || v <= rule.max);
  if (!ok) throw new UsageError(`${flag} must be ${kind}${range}, got "${text}"`);
  return v;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
