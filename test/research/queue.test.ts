import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MAY_SLICE } from '../backtests/support.js';
import { runCli, runCliUntil, type CliResult } from '../support/cli.js';
import { CliProcess, cleanEnv } from '../support/builtCli.js';
import { freshPostgres, type TestDatabase } from '../storage/support/databases.js';
import { decode, encode, QUEUE_NAME } from '../../src/research/queue/protocol.js';

/**
 * `rxtrade optimize --queue redis` with real `rxtrade worker` processes (the built CLI: `npm run build`),
 * real Redis and Postgres. The tests use a Redis database of their own (/11): no other queue user sees it.
 */
const REDIS = `${process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/11`;
const FROM = '2021-05-18T18:00:00Z';
const TO = '2021-05-21T00:00:00Z';

let pg: TestDatabase;
let dbUrl: string;
let queue: Queue;
let redis: Redis;
const workers: CliProcess[] = [];

beforeAll(async () => {
  pg = await freshPostgres();
  dbUrl = pg.url as string;
  const imported = await runCli([
    'import',
    '--file',
    MAY_SLICE,
    '--symbol',
    'BTC-USDT',
    '--timeframe',
    '1m',
    '--label',
    'open',
    '--database-url',
    dbUrl,
  ]);
  expect(imported.code).toBe(0);
  redis = new Redis(REDIS, { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE_NAME, { connection: redis });
  await queue.obliterate({ force: true });
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await queue?.obliterate({ force: true });
  await queue?.close();
  redis?.disconnect();
  await pg?.dispose();
});

function startWorker(): CliProcess {
  const w = new CliProcess(
    ['worker', '--redis-url', REDIS, '--database-url', dbUrl, '--stalled-after', '2'],
    cleanEnv(),
  );
  workers.push(w);
  return w;
}

const ready = (w: CliProcess): Promise<void> => w.waitFor((p) => p.stderr.includes(' ready: '), 60_000);

function optimize(grid: string, ...more: string[]): Promise<CliResult> {
  return runCli([
    'optimize',
    '--strategy',
    'sma_cross',
    '--symbol',
    'BTC-USDT',
    '--from',
    FROM,
    '--to',
    TO,
    '--grid',
    grid,
    '--constraint',
    'fast_period < slow_period',
    '--database-url',
    dbUrl,
    '--json',
    ...more,
  ]);
}

interface Doc {
  combinations: number;
  results: { params: Record<string, unknown>; metrics: Record<string, unknown> }[];
}

/** The run ids optimize announced on stderr. */
const runIds = (stderr: string): string[] =>
  [...stderr.matchAll(/run ([0-9a-f-]{36}):/g)].map((m) => m[1] as string);

describe('the queue codec', () => {
  it('keeps NaN, ±Infinity and −0, which JSON would not', () => {
    const value = {
      a: Number.NaN,
      b: Number.POSITIVE_INFINITY,
      c: Number.NEGATIVE_INFINITY,
      d: -0,
      e: [1.5, -0],
    };
    const back = decode<typeof value>(encode(value));
    expect(back.a).toBeNaN();
    expect(back.b).toBe(Number.POSITIVE_INFINITY);
    expect(back.c).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(back.d, -0)).toBe(true);
    expect(Object.is(back.e[1], -0)).toBe(true);
    expect(back.e[0]).toBe(1.5);
  });
});

describe('rxtrade optimize --queue redis without workers', () => {
  it('says it waits for workers, gives up after --timeout and takes its jobs off the queue', async () => {
    const r = await optimize(
      'fast_period=5,10,slow_period=20,30',
      '--queue',
      'redis',
      '--redis-url',
      REDIS,
      '--timeout',
      '3',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('waiting for workers: none is connected');
    expect(r.stderr).toMatch(
      /no result from the queue for 3 s \(0 workers connected, 4 of 4 combinations not done\)/,
    );
    const [runId] = runIds(r.stderr);
    expect(runId).toBeDefined();
    expect(await queue.getJob(`${runId}-0`)).toBeUndefined();
    expect(await queue.getWaitingCount()).toBe(0);
  });

  it('on Ctrl-C removes the combinations no worker took, and exits 130', async () => {
    const r = await runCliUntil(
      [
        'optimize',
        '--strategy',
        'sma_cross',
        '--symbol',
        'BTC-USDT',
        '--from',
        FROM,
        '--to',
        TO,
        '--grid',
        'fast_period=5,10,slow_period=20,30',
        '--database-url',
        dbUrl,
        '--queue',
        'redis',
        '--redis-url',
        REDIS,
      ],
      (stderr) => stderr.includes('combinations queued'),
      60_000,
      'stderr',
    );
    expect(r.code).toBe(130);
    const [runId] = runIds(r.stderr);
    expect(runId).toBeDefined();
    for (let i = 0; i < 4; i++) expect(await queue.getJob(`${runId}-${i}`)).toBeUndefined();
    expect(await queue.getWaitingCount()).toBe(0);
  });

  it('names REDIS_URL when Redis does not answer, and refuses a CSV with the command that stores it', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://127.0.0.1:1';
    let down: CliResult;
    try {
      down = await optimize('fast_period=5,slow_period=20', '--queue', 'redis');
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\): nothing answers \(ECONNREFUSED\); start Redis or point REDIS_URL at it/,
    );
    const csv = await runCli([
      'optimize',
      '--strategy',
      'sma_cross',
      '--data',
      MAY_SLICE,
      '--grid',
      'fast_period=5,slow_period=20',
      '--queue',
      'redis',
      '--redis-url',
      REDIS,
    ]);
    expect(csv.code).toBe(1);
    expect(csv.stderr).toContain('--queue runs on candles stored in Postgres');
    expect(csv.stderr).toContain(`rxtrade import --file ${MAY_SLICE}`);
  });
});

describe('rxtrade optimize --queue redis with two rxtrade worker processes', () => {
  const GRID = 'fast_period=5:15:5,slow_period=20:40:10';

  it('gives the same results as --workers 1 and --workers 2', async () => {
    const a = startWorker();
    const b = startWorker();
    await Promise.all([ready(a), ready(b)]);
    const one = await optimize(GRID, '--workers', '1');
    const two = await optimize(GRID, '--workers', '2');
    const stored = async (): Promise<number> =>
      Number((await pg.db.query<{ n: string }>('SELECT count(*) AS n FROM backtest_runs'))[0]?.n);
    const before = await stored();
    const queued = await optimize(GRID, '--queue', 'redis', '--redis-url', REDIS);
    expect([one.code, two.code, queued.code]).toEqual([0, 0, 0]);
    // Stored in backtest_runs as a local run is.
    expect((await stored()) - before).toBe(9);
    const doc = JSON.parse(queued.stdout) as Doc;
    expect(doc.combinations).toBe(9);
    expect(doc.results).toHaveLength(9);
    // Byte for byte: parameters, every metric, the ranking.
    expect(queued.stdout).toBe(one.stdout);
    expect(two.stdout).toBe(one.stdout);
    expect(queued.stderr).toMatch(/9 combinations queued .*, 2 workers connected/);

    const stopped = await Promise.all([a.stop('SIGINT'), b.stop('SIGINT')]);
    const ran = stopped.map((s) => Number(/stopped after (\d+) combination/.exec(s.stderr)?.[1]));
    expect(stopped.map((s) => s.code)).toEqual([0, 0]);
    expect(ran[0]! + ran[1]!).toBe(9);
  }, 180_000);

  it('a worker whose database holds other candles refuses the jobs: the optimize stops with its reason', async () => {
    const other = await freshPostgres();
    try {
      const imported = await runCli([
        'import',
        '--file',
        MAY_SLICE,
        '--symbol',
        'ETH-USDT',
        '--timeframe',
        '1m',
        '--label',
        'open',
        '--database-url',
        other.url as string,
      ]);
      expect(imported.code).toBe(0);
      const w = new CliProcess(
        ['worker', '--redis-url', REDIS, '--database-url', other.url as string],
        cleanEnv(),
      );
      workers.push(w);
      await ready(w);
      const r = await optimize(GRID, '--queue', 'redis', '--redis-url', REDIS);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /the BTC-USDT 1m candles \(okx\) in Postgres at .* are not the ones the optimize read \(0 candles here, 2000 there\)/,
      );
      expect(await queue.getWaitingCount()).toBe(0);
      await w.stop('SIGINT');
    } finally {
      await other.dispose();
    }
  }, 180_000);

  it('a worker killed mid-run: its job goes to the other worker and the results are complete and the same', async () => {
    const grid = 'fast_period=2:31:1,slow_period=40,60';
    const local = await optimize(grid, '--workers', '1');
    expect(local.code).toBe(0);
    const a = startWorker();
    const b = startWorker();
    await Promise.all([ready(a), ready(b)]);
    const running = optimize(grid, '--queue', 'redis', '--redis-url', REDIS);
    // A worker says "run …" when it has read a run's candles, just before it runs its first combination:
    // from then on it holds a job (it takes the next one as it finishes one) while any are waiting.
    await a.waitFor((p) => /run [0-9a-f-]{36}: /.test(p.stderr), 60_000);
    a.child.kill('SIGKILL');
    const queued = await running;
    expect(queued.code).toBe(0);
    expect(queued.stderr).toContain('its worker stopped answering (crashed?); it is back on the queue');
    const doc = JSON.parse(queued.stdout) as Doc;
    expect(doc.combinations).toBe(60);
    expect(queued.stdout).toBe(local.stdout);
    await b.stop('SIGINT');
  }, 180_000);
});
