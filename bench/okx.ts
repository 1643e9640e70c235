import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Trade } from '../src/domain/trade.js';
import { OkxSimulator } from '../src/sim/okxSimulator.js';
import { okxTrades } from '../src/streams/okx/okxTrades.js';
import { OkxRestClient } from '../src/streams/okx/rest.js';
import { readTradeCsv } from '../src/streams/tradeCsv.js';
import { stats } from './machine.js';

/**
 * The OKX client against the simulator on loopback, no faults: how many trades a second the simulator
 * pushes and the client parses, validates and emits, and the delay from the trade's time (stamped by the
 * simulator as it generates it) to the client emitting it.
 */
export async function benchOkx(root: string, runs = 3, seconds = 4): Promise<string[]> {
  const btc = await readTradeCsv(
    `${root}/samples/binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv`,
    {
      symbol: 'BTC-USDT',
    },
  );
  const eth = await readTradeCsv(
    `${root}/samples/binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv`,
    {
      symbol: 'ETH-USDT',
    },
  );
  const lines: string[] = [];
  for (const speed of [10, 2_000]) {
    const rates: number[] = [];
    const pushRates: number[] = [];
    const p50: number[] = [];
    const p99: number[] = [];
    for (let run = 0; run < runs; run++) {
      const sim = new OkxSimulator({
        instruments: [
          { instId: 'BTC-USDT', trades: btc.trades },
          { instId: 'ETH-USDT', trades: eth.trades },
        ],
        speed,
        rateLimits: false,
      });
      const { restUrl, wsPublicUrl } = await sim.start();
      const latencies: number[] = [];
      let exchangeTrades = 0;
      let t0 = 0;
      const sub = okxTrades({
        symbols: ['BTC-USDT', 'ETH-USDT'],
        wsUrl: wsPublicUrl,
        rest: new OkxRestClient({ baseUrl: restUrl }),
      }).subscribe((t: Trade) => {
        if (t0 === 0) t0 = performance.now();
        exchangeTrades += t.count ?? 1;
        latencies.push(Date.now() - t.tsMs);
      });
      await new Promise((r) => setTimeout(r, seconds * 1_000));
      const elapsed = (performance.now() - t0) / 1_000;
      sub.unsubscribe();
      const pushes = sim.stats().pushes;
      await sim.stop();
      rates.push(exchangeTrades / elapsed);
      pushRates.push(pushes / elapsed);
      const l = stats(latencies);
      latencies.sort((a, b) => a - b);
      p50.push(l.median);
      p99.push(latencies[Math.floor(0.99 * (latencies.length - 1))] ?? Number.NaN);
    }
    lines.push(
      `okx     simulator ${speed}× → client on loopback: median ${Math.round(stats(rates).median)} trades/s ` +
        `(${Math.round(stats(pushRates).median)} pushes/s), trade time → emitted (includes the simulator's 10 ms generation tick) p50 ${stats(p50).median.toFixed(1)} ms, ` +
        `p99 ${stats(p99).median.toFixed(1)} ms (${runs} runs of ${seconds} s)`,
    );
  }
  return lines;
}

/**
 * Send → emit latency and the client's parse ceiling, without the simulator's 10 ms generation tick in the
 * way: a bare WebSocket server in this process sends `trades` pushes and notes when it sent each trade id
 * (performance.now(), µs resolution); the latency is the time until okxTrades emits that trade.
 */
export async function benchOkxLatency(runs = 3): Promise<string[]> {
  const p50s: number[] = [];
  const p99s: number[] = [];
  const ceilings: number[] = [];
  for (let run = 0; run < runs; run++) {
    const http = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: '0', msg: '', data: [] }));
    });
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    let client: WebSocket | undefined;
    wss.on('connection', (ws) => {
      client = ws;
      ws.on('message', (m) => {
        const req = JSON.parse(m.toString()) as { id: string; args: unknown[] };
        ws.send(JSON.stringify({ id: req.id, event: 'subscribe', arg: req.args[0], connId: 'b' }));
      });
    });
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    let emitted = 0;
    const sub = okxTrades({
      symbols: ['BTC-USDT'],
      wsUrl: `ws://127.0.0.1:${port}`,
      rest: new OkxRestClient({ baseUrl: `http://127.0.0.1:${port}` }),
      checkInstruments: false,
    }).subscribe((t) => {
      emitted += 1;
      const at = sentAt.get(Number(t.tradeId));
      if (at !== undefined) latencies.push(performance.now() - at);
    });
    while (client === undefined) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    const ws = client;
    const frame = (id: number): string =>
      `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"${id}","px":"61837.6","sz":"0.01","side":"buy","ts":"${Date.now()}","count":"1","source":"0","seqId":${id}}]}`;
    // 1) latency at a steady 2,000 pushes/s for 2 s
    let id = 1_000_000;
    for (let tick = 0; tick < 1_000; tick++) {
      for (let k = 0; k < 2; k++) {
        id += 1;
        sentAt.set(id, performance.now());
        ws.send(frame(id));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 100));
    latencies.sort((a, b) => a - b);
    p50s.push(latencies[Math.floor(latencies.length / 2)] ?? Number.NaN);
    p99s.push(latencies[Math.floor(0.99 * (latencies.length - 1))] ?? Number.NaN);
    // 2) ceiling: 200,000 pushes as fast as the socket takes them
    const before = emitted;
    const t0 = performance.now();
    for (let batch = 0; batch < 200; batch++) {
      for (let k = 0; k < 1_000; k++) ws.send(frame(++id));
      await new Promise((r) => setImmediate(r));
    }
    while (emitted - before < 200_000 && performance.now() - t0 < 30_000)
      await new Promise((r) => setTimeout(r, 2));
    ceilings.push((emitted - before) / ((performance.now() - t0) / 1_000));
    sub.unsubscribe();
    wss.close();
    await new Promise((r) => http.close(r));
  }
  return [
    `okx     client send → emit at 2,000 pushes/s: median p50 ${stats(p50s).median.toFixed(3)} ms, p99 ${stats(p99s).median.toFixed(3)} ms; ` +
      `parse ceiling (200,000 pushes back to back, sender in the same process): median ${Math.round(stats(ceilings).median)} trades/s (${runs} runs)`,
  ];
}
