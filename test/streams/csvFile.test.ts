import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = join(root, 'dist', 'src', 'streams', 'csvFile.js');

describe('openTextInput on a FIFO', () => {
  it('leaves nothing for the garbage collector to close (no warning on stderr)', () => {
    // The built module (npm test builds first), in a process whose collector the script can run.
    expect(existsSync(built)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'rxtrade-fifo-'));
    const fifo = join(dir, 'input.csv');
    execFileSync('mkfifo', [fifo]);
    const script = `
      const { openTextInput } = await import(${JSON.stringify(built)});
      const input = await openTextInput(${JSON.stringify(fifo)}, 1024);
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      input.destroy();
      console.log('opened');
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(run.stdout).toBe('opened\n');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
