import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/cli/packageRoot.js';
import { loadScannerConfig } from '../../src/scanner/config.js';
import { chooseScannerConfig } from '../../src/scanner/configPath.js';

describe('chooseScannerConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-scanconf-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the file given, even when it does not exist (loading it then names it)', () => {
    expect(chooseScannerConfig('/nowhere/x.yaml', dir)).toEqual({ path: '/nowhere/x.yaml' });
  });

  it("takes the config folder's scanner.yaml when there is one", () => {
    writeFileSync(join(dir, 'scanner.yaml'), 'application:\n  scan_interval_seconds: 60\n');
    expect(chooseScannerConfig(undefined, dir)).toEqual({ path: join(dir, 'scanner.yaml') });
  });

  it('falls back to the shipped defaults, saying so, when the config folder has none', async () => {
    const chosen = chooseScannerConfig(undefined, join(dir, 'missing'));
    const shipped = join(packageRoot(), 'config', 'scanner.yaml');
    expect(chosen.path).toBe(shipped);
    expect(chosen.note).toBe(
      `no scanner.yaml in ${join(dir, 'missing')}: using the shipped defaults ${shipped}`,
    );
    await expect(loadScannerConfig(chosen.path)).resolves.toHaveProperty('config.exchange');
  });
});
