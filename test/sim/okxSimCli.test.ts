import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { ETH_SAMPLE, TestClient, sleep } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-okx-sim-'));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Connects once the command is listening (it reads its files first). */
async function connectWhenUp(url: string): Promise<TestClient> {
  for (let i = 0; ; i++) {
    try {
      return await TestClient.connect(url);
    } catch (err) {
      if (i > 100) throw err;
      await sleep(50);
    }
  }
}

/** Runs `okx-sim` in-process, lets `whileRunning` talk to it, then interrupts it (as Ctrl-C does). */
async function runSim(args: string[], whileRunning: (port: number) => Promise<void>) {
  const port = await freePort();
  let interrupt: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  const run = runCli(['okx-sim', '--port', String(port), ...args], interrupted);
  try {
    await Promise.race([
      whileRunning(port),
      run.then((r) => Promise.reject(new Error(`exited early: ${r.stderr}`))),
    ]);
  } finally {
    interrupt();
  }
  return run;
}

describe('rxtrade okx-sim', () => {
  it('serves a trade CSV as ETH-USDT (the acceptance command), prints URLs and stats, stops on Ctrl-C', async () => {
    const r = await runSim(
      ['--trades', ETH_SAMPLE, '--symbol', 'ETH-USDT', '--speed', '50', '--stats-every', '0.2'],
      async (port) => {
        const c = await connectWhenUp(`ws://127.0.0.1:${port}/ws/v5/public`);
        c.subscribe([{ channel: 'trades', instId: 'ETH-USDT' }]);
        await c.until(() => c.pushes('trades').length >= 3, 5000, 'trades');
        const res = await fetch(`http://127.0.0.1:${port}/api/v5/public/instruments?instType=SPOT`);
        expect(((await res.json()) as { data: { instId: string }[] }).data.map((i) => i.instId)).toEqual([
          'ETH-USDT',
        ]);
        await sleep(300);
        c.ws.terminate();
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^rxtrade okx-sim: serving ETH-USDT on ws:\/\/127\.0\.0\.1:\d+\/ws\/v5\/public, ws:\/\/127\.0\.0\.1:\d+\/ws\/v5\/business and http:\/\/127\.0\.0\.1:\d+ \(REST\)$/m,
    );
    expect(r.stderr).toMatch(/ETH-USDT: 14515 recorded trades from binance_spot_ETHUSDT_.*\.csv/);
    expect(r.stderr).toMatch(/speed 50×, looping; Ctrl-C stops/);
    expect(r.stderr).toMatch(/rxtrade okx-sim: 1 connections \(1 in all\), \d+ trades, \d+ pushes/);
    expect(r.stderr).toMatch(/rxtrade okx-sim: stopped after \d+\.\d s; 0 connections/);
  });

  it('serves the bundled BTC-USDT and ETH-USDT samples by default, and candles with --label and --seed', async () => {
    const candles = join(dir, 'candles.csv');
    writeFileSync(
      candles,
      'open_time_ms,open,high,low,close,volume\n1619322780000,49721.34,49750.0,49670.02,49731.84,120.871771\n' +
        '1619322840000,49731.83,49749.98,49672.15,49674.78,32.402935\n1619323200000,49626.76,49705.04,49600.24,49683.94,5.887034\n',
    );
    const samples = await runSim(['--speed', '100'], async (port) => {
      const c = await connectWhenUp(`ws://127.0.0.1:${port}/ws/v5/business`);
      c.subscribe([{ channel: 'trades-all', instId: 'BTC-USDT' }]);
      await c.until(() => c.pushes('trades-all').length > 0, 5000, 'BTC trades');
      c.ws.terminate();
    });
    expect(samples.code).toBe(0);
    expect(samples.stderr).toMatch(/serving BTC-USDT, ETH-USDT on /);

    const synth = await runSim(
      [
        '--candles',
        candles,
        '--symbol',
        'btc-usdt',
        '--label',
        'open',
        '--seed',
        '4',
        '--speed',
        '600',
        '--drop-every',
        '100',
      ],
      async (port) => {
        const c = await connectWhenUp(`ws://127.0.0.1:${port}/ws/v5/business`);
        c.subscribe([{ channel: 'candle1m', instId: 'BTC-USDT' }]);
        await c.until(() => c.pushes('candle1m').length > 0, 5000, 'a candle');
        c.ws.terminate();
      },
    );
    expect(synth.code).toBe(0);
    expect(synth.stderr).toMatch(
      /BTC-USDT: trades synthesized from 3 1m candles in candles\.csv \(open times, seed 4\); 1 gaps \(5 minutes\) replayed as quiet time/,
    );
    expect(synth.stderr).toMatch(/faults: drop every 100 s; Ctrl-C stops/);
  });

  it.each([
    [['--speed', '0'], /--speed must be a number > 0, got "0"/],
    [['--speed', 'fast'], /--speed must be a number > 0, got "fast"/],
    [['--port', '70000'], /--port must be an integer in 0..65535, got "70000"/],
    [['--garbage-rate', '2'], /--garbage-rate must be a number in 0..1, got "2"/],
    [['--drop-every', '-1'], /--drop-every must be a number > 0, got "-1"/],
    [['--history-trades', '1.5'], /--history-trades must be an integer ≥ 0, got "1.5"/],
    [['--symbol', 'ETH-USDT'], /--symbol ETH-USDT: --symbol must follow --trades FILE or --candles FILE/],
    [['--trades', 'SAMPLE', '--label', 'open'], /--label open: --label must follow --candles FILE/],
    [['--candles', 'x.csv', '--label', 'middle'], /--label must be open or close, got "middle"/],
    [
      ['--trades', '/nonexistent/trades.csv', '--symbol', 'ETH-USDT'],
      /cannot read trades file \/nonexistent\/trades.csv: no such file/,
    ],
    [
      ['--trades', 'SAMPLE', '--symbol', 'ETHUSDT'],
      /instrument "ETHUSDT" is not an OKX instrument id like BTC-USDT/,
    ],
    [['--trades', 'SAMPLE', '--trades', 'SAMPLE'], /ETH-USDT is given twice/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ])('refuses %j with a clear message and exit code 1', async (args, message) => {
    const argv = args.map((a) => (a === 'SAMPLE' ? ETH_SAMPLE : a)); // SAMPLE: the bundled ETH-USDT trades
    const r = await runCli(['okx-sim', '--port', '0', ...argv], new Promise<void>(() => {}));
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
  });

  it('refuses a candle file it cannot tell the instrument of, and names bad rows by file and line', async () => {
    const anonymous = join(dir, 'candles-1m.csv');
    writeFileSync(anonymous, 'ts,open,high,low,close,volume\n1619322840000,1,1,1,1,1\n');
    const r = await runCli(['okx-sim', '--candles', anonymous]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot tell which instrument .*candles-1m\.csv holds: add --symbol BASE-QUOTE after it/,
    );

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'ts,open,high,low,close,volume\n1619322840000,1,1,2,1,1\n');
    const r2 = await runCli(['okx-sim', '--candles', bad, '--symbol', 'BTC-USDT']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/bad\.csv line 2: low 2 is above high 1/);
  });

  it('asks for --symbol when a trade file names no symbol, and refuses --symbol over several', async () => {
    const anonymous = join(dir, 'recorded.csv');
    writeFileSync(anonymous, 'trade_id,price,qty,ts\n1,100,1,1723161600000\n');
    const r = await runCli(['okx-sim', '--port', '0', '--trades', anonymous], new Promise<void>(() => {}));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `rxtrade: cannot tell which symbol ${anonymous} holds: it has no symbol column (symbol, instId or inst_id) ` +
        `and its name names no pair (such as …BTCUSDT… or …ETH_USDT…); add --symbol BASE-QUOTE after --trades ${anonymous}\n`,
    );

    const two = join(dir, 'two.csv');
    writeFileSync(
      two,
      'instId,tradeId,px,sz,ts\nBTC-USDT,1,100,1,1723161600000\nETH-USDT,1,10,1,1723161600001\n',
    );
    const r2 = await runCli(
      ['okx-sim', '--port', '0', '--trades', two, '--symbol', 'BTC-USDT'],
      new Promise<void>(() => {}),
    );
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(
      /two\.csv holds trades of 2 symbols \(BTC-USDT from line 2, ETH-USDT from line 3\)/,
    );
  });

  it('says so when the port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const r = await runCli(['okx-sim', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`port ${port} on 127.0.0.1 is already in use \\(choose another with --port or --host\\)`),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
