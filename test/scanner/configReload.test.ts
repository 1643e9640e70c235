import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingLogger, type LogRecord } from '../../src/infra/logger.js';
import { loadScannerConfig, parseScannerYaml, type ScannerConfig } from '../../src/scanner/config.js';
import { ConfigReloader } from '../../src/scanner/configReloader.js';
import { ScannerStore } from '../../src/scanner/store.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, type TestDatabase } from '../storage/support/databases.js';

async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('scanner config', () => {
  it('ships config/scanner.yaml valid, in the five sections', async () => {
    const { config } = await loadScannerConfig('config/scanner.yaml');
    expect(Object.keys(config)).toEqual([
      'exchange',
      'filtering',
      'momentum_strategy',
      'risk_management',
      'application',
    ]);
  });

  it.each([
    [
      'filtering:\n  min_volum_24h: 5\n',
      /^f\.yaml: filtering\.min_volum_24h: unknown key \(accepted: quote_currencies, min_volume_24h/,
    ],
    ['risk_management:\n  max_open_positions: 0\n', /^f\.yaml: risk_management\.max_open_positions: /],
    [
      'momentum_strategy:\n  roc_thresholds: { 5m: -1 }\n',
      /^f\.yaml: momentum_strategy\.roc_thresholds\.5m: /,
    ],
    ['application: [1\n', /^f\.yaml: not valid YAML/],
    ['bogus: 1\n', /^f\.yaml: bogus: unknown key/],
  ])('refuses %j naming the key', (text, message) => {
    expect(() => parseScannerYaml(text, 'f.yaml')).toThrow(message);
  });
});

describe('scanner config reload', () => {
  let t: TestDatabase;
  let dir: string;
  beforeEach(async () => {
    t = await freshPglite();
    await migrate(t.db);
    dir = await mkdtemp(join(tmpdir(), 'scanner-config-'));
  });
  afterEach(async () => {
    await t.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a valid change within seconds, refuses an invalid one (the old one keeps running), stores every applied version', async () => {
    const path = join(dir, 'scanner.yaml');
    const v1 = await readFile('config/scanner.yaml', 'utf8');
    await writeFile(path, v1);
    const store = new ScannerStore(t.db, 'reload-run', 'okx-sim');
    await store.startRun();
    let running: ScannerConfig = parseScannerYaml(v1, path);
    await store.recordConfig(1, v1, running);
    const logs: LogRecord[] = [];
    const reloader = new ConfigReloader(
      {
        path,
        pollMs: 50,
        logger: new RecordingLogger(logs),
        onApply: async (config, text, version) => {
          await store.recordConfig(version, text, config);
          running = config;
        },
      },
      v1,
    );
    reloader.start();
    try {
      await writeFile(path, v1.replace('min_score: 85', 'min_score: 60'));
      await until(() => running.momentum_strategy.min_score === 60, 'version 2');
      expect(reloader.version).toBe(2);

      await writeFile(path, v1.replace('max_open_positions: 5', 'max_open_positions: -2'));
      await until(() => logs.some((l) => l.level === 'warn'), 'the refusal');
      const warn = logs.find((l) => l.level === 'warn')!;
      expect(warn.msg).toMatch(
        /^scanner config refused, keeping version 2: .*risk_management\.max_open_positions/,
      );
      expect(reloader.version).toBe(2);
      expect(running.momentum_strategy.min_score).toBe(60);
      expect(running.risk_management.max_open_positions).toBe(5);

      await writeFile(path, v1.replace('max_open_positions: 5', 'max_open_positions: 3'));
      await until(() => running.risk_management.max_open_positions === 3, 'version 3');
    } finally {
      await reloader.stop();
    }
    const rows = await t.db.query<{ version: number; config: ScannerConfig; source: string }>(
      'SELECT version, config, source FROM scanner_config_history WHERE run_id = $1 ORDER BY version',
      ['reload-run'],
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r.config.momentum_strategy.min_score)).toEqual([85, 60, 85]);
    expect(rows[2]?.config.risk_management.max_open_positions).toBe(3);
    expect(rows[2]?.source).toContain('max_open_positions: 3');
  }, 60_000);
});
