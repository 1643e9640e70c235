import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InterruptedError } from '../../src/domain/errors.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { OkxRestClient, OkxRestError } from '../../src/streams/okx/rest.js';
import { activeTimers, hangingServer, refusedPort, type HangingServer } from '../support/servers.js';

/**
 * The OKX REST client stops when told to (issue 9, point 7): a request to a server that never answers, a
 * backoff between retries and a wait for a rate-limit slot all end at once when the client's or the call's
 * AbortSignal fires, with InterruptedError and no timer left behind. A request that gets no answer times out.
 * Without that, `stop()` and Ctrl-C waited for every retry (14–100 s against an unreachable endpoint).
 */

let hanging: HangingServer;
beforeEach(async () => {
  hanging = await hangingServer();
});
afterEach(() => hanging.close());

/**
 * undici (fetch) keeps a 1 s timer of its own while it holds a connection, and may open a spare one after an
 * abort (closed by its 4 s keep-alive): give that time to go. The client's own timers here are 10 minutes
 * long, so one left behind would still be there.
 */
const NO_TIMER_LEFT_MS = 10_000;

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('OkxRestClient: timeouts and aborts', () => {
  it('gives up on a server that never answers after the per-request timeout, naming it', async () => {
    const log = new RecordingLogger();
    const rest = new OkxRestClient({
      baseUrl: hanging.url,
      timeoutMs: 100,
      maxRetries: 1,
      backoffBaseMs: 1,
      logger: log,
    });
    const err = await rest.instruments().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OkxRestError);
    expect(String(err)).toMatch(
      /\/api\/v5\/public\/instruments: no answer within 100 ms \(code \?, HTTP 0\)/,
    );
    // The first try and one retry.
    expect(log.records).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'OKX request failed: no answer within 100 ms; retrying',
      }),
    ]);
  });

  it("ends a request in flight at once when the client's signal aborts, leaving no timer", async () => {
    const timers = activeTimers();
    const stop = new AbortController();
    // Without the abort this would wait 10 minutes per try: the test's own timeout would fail it.
    const rest = new OkxRestClient({ baseUrl: hanging.url, timeoutMs: 600_000, signal: stop.signal });
    const pending = rest.historyTrades('BTC-USDT').catch((e: unknown) => e);
    await until('the request reaching the server', () => hanging.waiting === 1);
    stop.abort();
    const err = await pending;
    expect(err).toBeInstanceOf(InterruptedError);
    expect(String(err)).toMatch(/OKX \/api\/v5\/market\/history-trades: stopped/);
    await until('the request abandoned', () => hanging.waiting === 0);
    await until('no timer left', () => activeTimers() <= timers, NO_TIMER_LEFT_MS);
    // A stopped client starts nothing new.
    await expect(rest.instruments()).rejects.toBeInstanceOf(InterruptedError);
    expect(hanging.waiting).toBe(0);
  });

  it("ends a backoff wait at once when the call's signal aborts", async () => {
    const log = new RecordingLogger();
    const port = await refusedPort();
    const timers = activeTimers();
    const rest = new OkxRestClient({
      baseUrl: `http://127.0.0.1:${port}`,
      backoffBaseMs: 600_000,
      logger: log,
    });
    const call = new AbortController();
    const pending = rest.instruments('SPOT', undefined, { signal: call.signal }).catch((e: unknown) => e);
    await until('the first retry wait', () => log.records.some((r) => /retrying/.test(r.msg)));
    expect(log.records[0]).toMatchObject({
      msg: 'OKX request failed: fetch failed (ECONNREFUSED); retrying',
      waitMs: expect.any(Number),
    });
    call.abort();
    expect(await pending).toBeInstanceOf(InterruptedError);
    await until('no timer left', () => activeTimers() <= timers, NO_TIMER_LEFT_MS);
  });

  it('ends a wait for a rate-limit slot at once, and the calls behind it go on', async () => {
    let served = 0;
    const server: Server = createServer((_req, res) => {
      served += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: '0', msg: '', data: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const rest = new OkxRestClient({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      // history-trades allows 20 requests per 2 s: the 21st waits for a slot.
      await Promise.all(Array.from({ length: 20 }, () => rest.historyTrades('BTC-USDT')));
      const call = new AbortController();
      const waiting = rest.historyTrades('BTC-USDT', {}, { signal: call.signal }).catch((e: unknown) => e);
      const behind = rest.historyTrades('BTC-USDT');
      call.abort();
      expect(await waiting).toBeInstanceOf(InterruptedError);
      expect(served).toBe(20);
      await expect(behind).resolves.toEqual([]); // served when the window frees a slot, not blocked by the abort
      expect(served).toBe(21);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("a call's retry budget overrides the client's", async () => {
    const log = new RecordingLogger();
    const rest = new OkxRestClient({
      baseUrl: hanging.url,
      timeoutMs: 50,
      maxRetries: 6,
      backoffBaseMs: 1,
      logger: log,
    });
    await expect(rest.historyTrades('BTC-USDT', {}, { maxRetries: 0 })).rejects.toBeInstanceOf(OkxRestError);
    expect(log.records).toEqual([]); // no retry
  });
});
