import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltCli, type ProcessResult } from '../support/builtCli.js';

/**
 * `--pglite` paths that cannot hold a database: each is refused by a real `rxtrade migrate` process with
 * exit code 1 and one line naming the path, promptly (a hang is killed by the timeout and fails), and
 * nothing is written where it does not belong. Needs `npm run build`.
 */

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-pglite-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function migrate(path: string): Promise<ProcessResult> {
  // Killed after 60 s: a hang then fails the test (signal SIGKILL) rather than leaving a spinning process.
  // (Creating a folder and applying the six migrations took over 20 s on a loaded 2-core machine.)
  return runBuiltCli(['migrate', '--pglite', path], { timeoutMs: 60_000 });
}

/** Exit 1 (not killed by the timeout), and exactly one line on stderr, with no stack. */
function expectOneLineRefusal(r: ProcessResult, pattern: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
}

/** Every file's path, size and content under `root`: to show a folder is unchanged byte for byte. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out[`${p}/`] = 'dir';
        walk(p);
      } else {
        out[p] = readFileSync(p).toString('base64');
      }
    }
  };
  walk(root);
  return out;
}

describe('rxtrade migrate --pglite <a path that cannot hold a database>', () => {
  it('refuses a path under /proc at once (Node would spin forever creating it)', async () => {
    const r = await migrate('/proc/nope');
    expectOneLineRefusal(
      r,
      /^rxtrade: \/proc\/nope cannot hold a PGlite database: \/proc is a virtual filesystem of the kernel, not a disk; /,
    );
  }, 45_000);

  it('refuses a path under /sys', async () => {
    const r = await migrate('/sys/kernel/rxtrade-nope');
    expectOneLineRefusal(
      r,
      /^rxtrade: \/sys\/kernel\/rxtrade-nope cannot hold a PGlite database: \/sys is a virtual filesystem/,
    );
  }, 45_000);

  it('refuses a file', async () => {
    const file = join(dir, 'passwd');
    writeFileSync(file, 'root:x:0:0::/root:/bin/sh\n');
    expectOneLineRefusal(
      await migrate(file),
      new RegExp(`^rxtrade: ${file} cannot hold a PGlite database: it is a file, not a folder; `),
    );
    expectOneLineRefusal(
      await migrate('/etc/passwd'),
      /^rxtrade: \/etc\/passwd cannot hold a PGlite database: it is a file, not a folder/,
    );
    expect(readFileSync(file, 'utf8')).toBe('root:x:0:0::/root:/bin/sh\n');
  }, 60_000);

  it('refuses a device', async () => {
    expectOneLineRefusal(
      await migrate('/dev/null'),
      /^rxtrade: \/dev\/null cannot hold a PGlite database: it is a character device, not a folder; /,
    );
  }, 45_000);

  it('refuses a folder under a file', async () => {
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    expectOneLineRefusal(
      await migrate(join(file, 'db')),
      new RegExp(
        `^rxtrade: ${file}/db cannot hold a PGlite database: ${file} is a file, so no folder can be made under it; `,
      ),
    );
  }, 45_000);

  it('refuses a dangling symbolic link', async () => {
    const link = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), link);
    expectOneLineRefusal(
      await migrate(link),
      new RegExp(`^rxtrade: ${link} cannot hold a PGlite database: .*symbolic link to a missing folder`),
    );
  }, 45_000);

  it('never writes into an existing folder of other files', async () => {
    const other = join(dir, 'documents');
    mkdirSync(join(other, 'sub'), { recursive: true });
    writeFileSync(join(other, 'notes.txt'), 'my notes\n');
    writeFileSync(join(other, 'sub', 'photo.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]));
    const before = snapshot(other);
    const r = await migrate(other);
    expectOneLineRefusal(
      r,
      new RegExp(
        `^rxtrade: ${other} is not a PGlite database \\(no PG_VERSION\\) and holds other files \\(notes.txt, sub\\); nothing was written there: `,
      ),
    );
    expect(snapshot(other)).toEqual(before);
  }, 45_000);

  describe('a folder PGlite cannot start on', () => {
    let good: string;
    beforeAll(async () => {
      good = join(dir, 'good', 'nested', 'db');
      // Also the normal case: a new folder (and its missing parents) becomes a database.
      const r = await migrate(good);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(join(good, 'PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
    }, 120_000);

    it('names the path and the reason when pg_control is damaged', async () => {
      const broken = join(dir, 'broken');
      cpSync(good, broken, { recursive: true });
      truncateSync(join(broken, 'global', 'pg_control'), 0);
      const r = await migrate(broken);
      expectOneLineRefusal(
        r,
        new RegExp(
          `^rxtrade: ${broken} is not a usable PGlite database: could not read file "global/pg_control": read 0 of \\d+; move it away or point --pglite elsewhere$`,
          'm',
        ),
      );
    }, 60_000);

    it('names the path and the reason for a folder with only PG_VERSION', async () => {
      const half = join(dir, 'half');
      mkdirSync(half);
      writeFileSync(join(half, 'PG_VERSION'), readFileSync(join(good, 'PG_VERSION')));
      const r = await migrate(half);
      expectOneLineRefusal(
        r,
        new RegExp(
          `^rxtrade: ${half} is not a usable PGlite database: could not access the server configuration file`,
        ),
      );
      // The lock taken for the attempt is released.
      expect(readdirSync(half)).toEqual(['PG_VERSION']);
    }, 60_000);
  });
});
