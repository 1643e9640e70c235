import { runSoak, soakFaults } from '../../src/ops/soak.js';
import { formatSoakReport } from '../../src/ops/soakReport.js';

/**
 * The soak's short version (issue 13, point 6): the whole system (collector, the demo bots, the API and the
 * dashboard) on the embedded simulator with its faults on, for one simulated hour at 240× (15 s of wall
 * time), passes every rule; the faults really happened, and every sample saw the bots and the API.
 */
it('runs the system for one simulated hour with faults on and passes', async () => {
  // Denser faults than a long soak's, so that each kind happens within the hour.
  const faults = {
    ...soakFaults(240),
    dropEverySec: 25 * 60,
    noticeEverySec: 35 * 60,
    stallEverySec: 40 * 60,
  };
  const report = await runSoak({ hours: 1, speed: 240, sampleEveryMin: 20, faults });
  const text = formatSoakReport(report);
  expect({ failures: report.failures, text }).toEqual({
    failures: [],
    text: expect.stringMatching(/\nPASS\n$/),
  });

  expect(report.samples.map((s) => s.hour)).toEqual([0.33, 0.67, 1]);
  for (const s of report.samples) {
    expect(s.apiOk).toBe(true);
    expect(s.memory.heapUsedMb).toBeGreaterThan(0);
    expect(s.handles).toBeGreaterThan(0);
    expect(s.bots.map((b) => b.botKey).sort()).toEqual(['btc-ema-fast', 'btc-macd', 'eth-rsi']);
  }
  const last = report.samples[2];
  // At least the 1m candles of the minutes checked below (40 per symbol): at 240× the system's start-up
  // (PGlite, the first connection) takes several simulated minutes, so how many more depends on the load.
  expect(last?.rows.market_data).toBeGreaterThanOrEqual(80);
  expect(last?.rows.bot_performance).toBeGreaterThan(0);
  // Every minute of the hour is stored once, for both symbols, and the bots were given each once.
  for (const m of report.minutes) expect(m.rows).toBeGreaterThanOrEqual(40);
  expect(Object.keys(report.stream).sort()).toEqual(['BTC-USDT', 'ETH-USDT']);
  // The faults ran: 2 drops, a notice and a stall in the simulated hour (more while it stops), malformed and
  // duplicated pushes.
  expect(report.sim.drops).toBeGreaterThanOrEqual(2);
  expect(report.sim.stalls).toBeGreaterThanOrEqual(1);
  expect(report.sim.notices).toBeGreaterThanOrEqual(1);
  expect(report.sim.garbageFrames).toBeGreaterThan(0);
  expect(report.sim.duplicates).toBeGreaterThan(0);
  expect(report.sim.connectionsTotal).toBeGreaterThanOrEqual(3); // the first, and after the drops
  expect(text).toMatch(/^hour +wall s +heap MB/m);
}, 180_000);
