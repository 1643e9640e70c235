import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runDoctor, type CheckLine } from '../../src/cli/commands/doctor.js';
import { OkxSimulator } from '../../src/sim/okxSimulator.js';
import { migrate } from '../../src/storage/migrate.js';
import { MIGRATIONS } from '../../src/storage/migrations/index.js';
import { openDatabase } from '../../src/storage/database.js';
import { freshPostgres, seededPgliteFolder, type TestDatabase } from '../storage/support/databases.js';
import { hangingServer, refusedPort, type HangingServer } from '../support/servers.js';
import { cleanEnv } from '../support/builtCli.js';

/**
 * `rxtrade doctor` against real services (Postgres, Redis, the OKX simulator) and against what users get
 * wrong: refused ports, a hanging endpoint, bad config files, a folder that cannot hold a database.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const dir = mkdtempSync(join(tmpdir(), 'rxtrade-doctor-'));
let pg: TestDatabase;
let sim: OkxSimulator;
let simUrls: { restUrl: string; wsPublicUrl: string };
let hanging: HangingServer;
let refused: number;

beforeAll(async () => {
  pg = await freshPostgres();
  await migrate(pg.db);
  sim = new OkxSimulator({
    instruments: [
      {
        instId: 'BTC-USDT',
        trades: [
          { symbol: 'BTC-USDT', tradeId: '1', tsMs: 1_700_000_000_000, price: 1, size: 1, side: 'buy' },
        ],
      },
    ],
    speed: 1,
  });
  simUrls = await sim.start();
  hanging = await hangingServer();
  refused = await refusedPort();
}, 60_000);

afterAll(async () => {
  await sim.stop();
  await hanging.close();
  await pg.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function io() {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (b: Buffer) => chunks.push(b));
  return {
    io: { stdout, stderr: new PassThrough(), interactive: false, interrupted: new Promise<void>(() => {}) },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

const base = { timeout: '3000', minFreeMb: '1' };

async function doctor(
  options: Record<string, string> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<{ lines: CheckLine[]; byCheck: Record<string, CheckLine[]>; text: string }> {
  const out = io();
  const lines = await runDoctor({ ...base, configDir: join(root, 'config'), ...options }, out.io, {
    RXTRADE_DATA_DIR: join(dir, 'data'),
    ...env,
  });
  const byCheck: Record<string, CheckLine[]> = {};
  for (const l of lines) (byCheck[l.check] ??= []).push(l);
  return { lines, byCheck, text: out.text() };
}

describe('rxtrade doctor', () => {
  it('says ok for every real service it is pointed at, one line each', async () => {
    const { lines, text } = await doctor(
      { databaseUrl: pg.url!, redisUrl: REDIS },
      { OKX_REST_URL: simUrls.restUrl, OKX_WS_PUBLIC_URL: simUrls.wsPublicUrl },
    );
    expect(lines.map((l) => [l.check, l.status])).toEqual([
      ['database', 'ok'],
      ['redis', 'ok'],
      ['okx-rest', 'ok'],
      ['okx-ws', 'ok'],
      ['config', 'ok'],
      ['disk', 'ok'],
    ]);
    expect(lines[0]!.message).toMatch(
      new RegExp(
        `^Postgres at 127\\.0\\.0\\.1:5432/${pg.name} \\(Postgres \\d+[.\\d]*\\): reachable, all ${MIGRATIONS.length} migrations applied$`,
      ),
    );
    expect(lines[1]!.message).toMatch(
      /^Redis at redis:\/\/127\.0\.0\.1:6379 \(Redis \d[\d.]*\): answers PING$/,
    );
    expect(lines[2]!.message).toBe(`${simUrls.restUrl}: answers (server time)`);
    expect(lines[3]!.message).toBe(`${simUrls.wsPublicUrl}: connected, answers ping`);
    expect(lines[4]!.message).toMatch(/config: 3 bot files \(3 enabled\) and \d+ strategy files valid$/);
    expect(text.trimEnd().split('\n')).toHaveLength(6);
    expect(text).toMatch(/^ok {4}database {2}Postgres at/);
  }, 60_000);

  it('fails each service on a refused port, and a hanging one after --timeout', async () => {
    const { byCheck } = await doctor(
      {
        databaseUrl: `postgres://postgres@127.0.0.1:${refused}/x`,
        redisUrl: `redis://127.0.0.1:${refused}`,
        timeout: '1500',
      },
      { OKX_REST_URL: hanging.url, OKX_WS_PUBLIC_URL: `ws://127.0.0.1:${refused}` },
    );
    expect(byCheck.database).toEqual([
      {
        check: 'database',
        status: 'fail',
        message: `cannot use Postgres at 127.0.0.1:${refused}/x: nothing answers (ECONNREFUSED) (URL from --database-url)`,
      },
    ]);
    expect(byCheck.redis).toEqual([
      {
        check: 'redis',
        status: 'fail',
        message: `Redis at redis://127.0.0.1:${refused}: nothing answers (ECONNREFUSED)`,
      },
    ]);
    expect(byCheck['okx-rest']).toEqual([
      { check: 'okx-rest', status: 'fail', message: `${hanging.url}: no answer within 1500 ms` },
    ]);
    expect(byCheck['okx-ws']).toEqual([
      {
        check: 'okx-ws',
        status: 'fail',
        message: `ws://127.0.0.1:${refused}: nothing answers (ECONNREFUSED)`,
      },
    ]);
  }, 30_000);

  it('fails a WebSocket URL where an HTTP server answers, and a REST URL that is not OKX', async () => {
    const { byCheck } = await doctor(
      {},
      {
        OKX_REST_URL: `${simUrls.restUrl}/nothing-here`,
        OKX_WS_PUBLIC_URL: `ws://127.0.0.1:${hanging.port}`,
      },
    );
    expect(byCheck['okx-rest']![0]!.status).toBe('fail');
    expect(byCheck['okx-rest']![0]!.message).toMatch(/nothing-here: HTTP 404, not an OKX v5 answer/);
    expect(byCheck['okx-ws']).toEqual([
      {
        check: 'okx-ws',
        status: 'fail',
        message: `ws://127.0.0.1:${hanging.port}: no answer within 3000 ms`,
      },
    ]);
  }, 30_000);

  it('says the embedded simulator is used when no OKX URL is set', async () => {
    const { byCheck } = await doctor();
    expect(byCheck.okx).toEqual([
      {
        check: 'okx',
        status: 'ok',
        message:
          'no OKX_* URL set: `rxtrade start` uses the embedded simulator (`collect` without --sim would use www.okx.com; not checked)',
      },
    ]);
    expect(byCheck.redis![0]!.message).toMatch(/^REDIS_URL not set: the in-process bus/);
  });

  it('warns about migrations not applied yet, naming them', async () => {
    const fresh = await freshPostgres();
    try {
      await migrate(fresh.db, MIGRATIONS.slice(0, 2));
      const { byCheck } = await doctor({ databaseUrl: fresh.url! });
      const left = MIGRATIONS.slice(2).map((m) => `${String(m.id).padStart(3, '0')}_${m.name}`);
      expect(byCheck.database![0]!.status).toBe('warn');
      expect(byCheck.database![0]!.message).toMatch(
        `reachable, ${left.length} of ${MIGRATIONS.length} migrations not applied yet (${left.join(', ')}); \`rxtrade start\` or \`rxtrade migrate\` applies them`,
      );
    } finally {
      await fresh.dispose();
    }
  }, 60_000);

  it('checks a PGlite folder: missing, not a folder, on /proc, migrated, and held by another opener', async () => {
    const missing = join(dir, 'not-yet', 'pglite');
    expect((await doctor({ pglite: missing })).byCheck.database![0]).toEqual({
      check: 'database',
      status: 'ok',
      message: `PGlite at ${missing}: does not exist yet; \`rxtrade start\` or \`rxtrade migrate\` creates it`,
    });
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const underFile = await doctor({ pglite: join(file, 'pglite') });
    expect(underFile.byCheck.database![0]!.status).toBe('fail');
    expect(underFile.byCheck.database![0]!.message).toContain(
      `${file} is a file, so no folder can be made under it`,
    );
    const proc = await doctor({ pglite: '/proc/rxtrade' });
    expect(proc.byCheck.database![0]!.status).toBe('fail');
    expect(proc.byCheck.database![0]!.message).toContain('/proc is a virtual filesystem of the kernel');

    const folder = await seededPgliteFolder(join(dir, 'pglite'));
    const db = await openDatabase({ pglitePath: folder });
    await migrate(db);
    // Held by this process (as `rxtrade start` would hold it): doctor cannot open it and says who has it.
    const held = await doctor({ pglite: folder });
    expect(held.byCheck.database![0]!.status).toBe('warn');
    expect(held.byCheck.database![0]!.message).toMatch(
      new RegExp(
        `^${folder} is in use by .* \\(pid ${process.pid}, since .*\\); stop it first.*\\(migrations not checked\\)$`,
      ),
    );
    await db.close();
    const free = await doctor({ pglite: folder });
    expect(free.byCheck.database![0]).toEqual({
      check: 'database',
      status: 'ok',
      message: `PGlite at ${folder}: reachable, all ${MIGRATIONS.length} migrations applied`,
    });
  }, 120_000);

  it('validates every bot and strategy file with the loaders start uses: one line per bad file', async () => {
    const config = join(dir, 'config');
    cpSync(join(root, 'config'), config, { recursive: true });
    writeFileSync(
      join(config, 'strategies', 'broken.json'),
      '{"strategy_name": "ema_crossover", "parameters": {"fast_perod": 3}}',
    );
    writeFileSync(
      join(config, 'bots', 'typo.yaml'),
      'bot_id: typo\nstrategy: rsi_reversion\nsymbol: BTC-USDT\nvirtual_balanse: 10\n',
    );
    const { byCheck } = await doctor({ configDir: config });
    expect(byCheck.config!.map((l) => l.status)).toEqual(['fail', 'fail']);
    expect(byCheck.config![0]!.message).toMatch(
      /strategies\/broken\.json: parameters\.fast_perod: .*unknown key/,
    );
    expect(byCheck.config![1]!.message).toMatch(/bots\/typo\.yaml: .*virtual_balanse/);

    const none = await doctor({ configDir: join(dir, 'empty-config') }).catch((e: Error) => e);
    expect(none).toMatchObject({
      code: 'usage',
      message: expect.stringContaining('--config-dir') as unknown,
    });
    mkdirSync(join(dir, 'empty-config'));
    expect((await doctor({ configDir: join(dir, 'empty-config') })).byCheck.config).toEqual([
      {
        check: 'config',
        status: 'ok',
        message: `${join(dir, 'empty-config')}: 0 bot files (0 enabled) and 0 strategy files valid`,
      },
    ]);
  }, 30_000);

  it('fails below --min-free-mb free disk, and warns below 4 times it', async () => {
    const s = statfsSync(dir);
    const freeMb = (s.bavail * s.bsize) / 2 ** 20;
    const fail = await doctor({ minFreeMb: String(Math.ceil(freeMb * 2)) });
    expect(fail.byCheck.disk![0]!.status).toBe('fail');
    expect(fail.byCheck.disk![0]!.message).toMatch(/free, below --min-free-mb \d+$/);
    const warn = await doctor({ minFreeMb: String(Math.ceil(freeMb / 2)) });
    expect(warn.byCheck.disk![0]!.status).toBe('warn');
    expect(warn.byCheck.disk![0]!.message).toContain(`${join(dir, 'data')} (not created yet; on ${dir})`);
  });

  it('the built command exits 1 when a check fails and 0 when none does, reading the environment', async () => {
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(root, 'bin/rxtrade.js'), 'doctor', '--config-dir', join(root, 'config')],
          { env: { ...cleanEnv({ RXTRADE_DATA_DIR: join(dir, 'data') }), ...env }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }),
        );
      });
    const [good, bad] = await Promise.all([
      run({ DATABASE_URL: pg.url!, REDIS_URL: REDIS }),
      run({ REDIS_URL: `redis://127.0.0.1:${refused}` }),
    ]);
    expect(good.code).toBe(0);
    expect(good.stdout.split('\n').filter((l) => l.startsWith('ok '))).toHaveLength(5);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /^fail {2}redis {5}Redis at redis:\/\/127\.0\.0\.1:\d+: nothing answers \(ECONNREFUSED\)$/m,
    );
    expect(bad.stderr).toBe('rxtrade: doctor: 1 check(s) failed (see above)\n');
  }, 120_000);
});
