import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseLockedError } from '../../src/domain/errors.js';
import { openDatabase } from '../../src/storage/database.js';
import {
  acquirePgliteLock,
  describeCommand,
  LOCK_FILE,
  readPgliteLock,
  setPgliteLockApi,
  type PgliteLock,
  type PgliteLockInfo,
} from '../../src/storage/pgliteLock.js';

/** The exclusive lock on a PGlite folder: acquisition, refusal, stale takeover (and its race), release. */

let dir: string;
let folder: string;
const taken: PgliteLock[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxtrade-lock-'));
  folder = join(dir, 'pglite');
  mkdirSync(folder);
});
afterEach(() => {
  for (const lock of taken.splice(0)) lock.release();
  rmSync(dir, { recursive: true, force: true });
});

async function acquire(options: Parameters<typeof acquirePgliteLock>[2] = {}): Promise<PgliteLock> {
  const lock = await acquirePgliteLock(folder, 'data/pglite', { command: 'rxtrade test', ...options });
  taken.push(lock);
  return lock;
}

function lockFile(): string {
  return join(folder, LOCK_FILE);
}

function readLockFile(): PgliteLockInfo {
  return JSON.parse(readFileSync(lockFile(), 'utf8')) as PgliteLockInfo;
}

/** A pid that is certainly not running: a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  if (r.pid === undefined) throw new Error('could not spawn node');
  return r.pid;
}

/** This process's start time as /proc shows it (field 22 of /proc/self/stat). */
function ownStartTicks(): string {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/** A lock as another process would have written it. */
function plantLock(fields: Partial<PgliteLockInfo>): PgliteLockInfo {
  const st = statSync(folder);
  const info: PgliteLockInfo = {
    id: `planted-${Math.random().toString(16).slice(2)}`,
    pid: fields.pid ?? deadPid(),
    command: 'rxtrade start',
    started: new Date().toISOString(),
    hostname: hostname(),
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    folderDev: st.dev,
    folderIno: st.ino,
    ...fields,
  };
  writeFileSync(lockFile(), JSON.stringify(info));
  return info;
}

describe('acquirePgliteLock', () => {
  it('writes who holds the folder and refuses a second acquirer with one line naming it', async () => {
    const first = await acquire();
    const info = readLockFile();
    expect(info).toMatchObject({ pid: process.pid, command: 'rxtrade test', hostname: hostname() });
    expect(new Date(info.started).toISOString()).toBe(info.started);
    expect(info.api).toBeUndefined();

    const second = acquire({ command: 'rxtrade import' });
    await expect(second).rejects.toBeInstanceOf(DatabaseLockedError);
    await expect(second).rejects.toMatchObject({
      code: 'db_locked',
      message: expect.stringMatching(
        new RegExp(
          `^data/pglite is in use by rxtrade test \\(pid ${process.pid}, since \\d\\d:\\d\\d:\\d\\dZ\\); ` +
            'stop it first, or use Postgres through DATABASE_URL to run several processes at once$',
        ),
      ) as unknown,
    });
    // The refused acquirer left the holder's lock as it was, and no temporary file behind.
    expect(readLockFile()).toEqual(info);
    expect(readdirSync(folder)).toEqual([LOCK_FILE]);

    first.release();
    expect(existsSync(lockFile())).toBe(false);
    const third = await acquire();
    expect(readLockFile().id).toBe(third.info.id);
  });

  it('records the API URL for later commands and shows it to the refused', async () => {
    const lock = await acquire();
    lock.setApi('http://127.0.0.1:8080');
    expect(readPgliteLock(folder)?.api).toBe('http://127.0.0.1:8080');
    expect(readLockFile().pid).toBe(process.pid);
    await expect(acquire()).rejects.toThrow(
      /\(pid \d+, since [^)]+\), API at http:\/\/127\.0\.0\.1:8080; stop it first/,
    );
    lock.setApi(undefined);
    expect(readPgliteLock(folder)?.api).toBeUndefined();
    expect(setPgliteLockApi(folder, 'http://127.0.0.1:9')).toBe(true);
    expect(readPgliteLock(folder)?.api).toBe('http://127.0.0.1:9');
    lock.release();
    expect(setPgliteLockApi(folder, 'http://127.0.0.1:9')).toBe(false);
  });

  it('is held by an open PGlite database until it closes', async () => {
    const path = join(folder, 'db');
    const db = await openDatabase({ pglitePath: path });
    try {
      expect(readPgliteLock(path)?.pid).toBe(process.pid);
      expect(setPgliteLockApi(path, 'http://127.0.0.1:8080')).toBe(true);
      await expect(openDatabase({ pglitePath: path })).rejects.toThrow(
        new RegExp(`^${path} is in use by .*, API at http://127\\.0\\.0\\.1:8080; stop it first`),
      );
      expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
    expect(readPgliteLock(path)).toBeUndefined();
    expect(existsSync(join(path, LOCK_FILE))).toBe(false);
  }, 120_000);

  it('takes over the lock of a process that is gone, with a one-line note', async () => {
    const stale = plantLock({ started: '2026-01-02T03:04:05.000Z' });
    const notes: string[] = [];
    const lock = await acquire({ onNote: (l) => notes.push(l) });
    expect(readLockFile().id).toBe(lock.info.id);
    expect(notes).toEqual([
      `data/pglite: took over the lock of rxtrade start (pid ${stale.pid}, since 2026-01-02 03:04:05Z), which is no longer running`,
    ]);
    expect(readdirSync(folder)).toEqual([LOCK_FILE]);
  });

  it('does not trust a running pid that now belongs to another process (pid reuse)', async () => {
    // This process is alive, but it did not start at that time: the lock's process is gone.
    plantLock({ pid: process.pid, startTicks: '1' });
    const notes: string[] = [];
    await acquire({ onNote: (l) => notes.push(l) });
    expect(notes[0]).toMatch(/which is no longer running \(its pid now belongs to another process\)$/);
  });

  it('keeps a lock whose pid is running with the start time it recorded', async () => {
    plantLock({ pid: process.pid, startTicks: ownStartTicks() });
    await expect(acquire()).rejects.toThrow(/in use by rxtrade start \(pid \d+, since/);
  });

  it('takes over a lock from before a reboot and a lock copied with the folder', async () => {
    plantLock({ pid: process.pid, startTicks: ownStartTicks(), bootId: 'another-boot' });
    const notes: string[] = [];
    (await acquire({ onNote: (l) => notes.push(l) })).release();
    plantLock({ pid: process.pid, startTicks: ownStartTicks(), folderIno: 1 });
    await acquire({ onNote: (l) => notes.push(l) });
    expect(notes).toEqual([
      expect.stringMatching(/which ran before the machine restarted$/),
      expect.stringMatching(/whose lock was copied here with the folder$/),
    ]);
  });

  it('assumes a lock from another host is held (its pid cannot be checked here)', async () => {
    plantLock({ hostname: 'elsewhere' });
    await expect(acquire()).rejects.toThrow(
      new RegExp(
        `in use by rxtrade start \\(pid \\d+ on elsewhere, since [^)]+\\); stop it first \\(if it no longer runs on elsewhere, delete ${lockFile()}\\), or use Postgres`,
      ),
    );
  });

  it('lets exactly one of two racing acquirers take the same stale lock', async () => {
    plantLock({});
    // Both judge the lock stale before either takes it over, and the second takes it over only after
    // the first has won: the interleaving in which a naive unlink-and-create gives the folder to both.
    let secondArrived: () => void = () => undefined;
    const secondHasJudged = new Promise<void>((resolve) => (secondArrived = resolve));
    const first = acquire({ beforeTakeover: () => secondHasJudged, onNote: () => undefined });
    const second = acquire({
      beforeTakeover: async () => {
        secondArrived();
        await first.catch(() => undefined);
      },
      onNote: () => undefined,
    });
    const results = await Promise.allSettled([first, second]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseLockedError);
    expect(readLockFile().id).toBe((won[0] as PromiseFulfilledResult<PgliteLock>).value.info.id);
    expect(readdirSync(folder)).toEqual([LOCK_FILE]);
  });

  it('waits for another process that is taking over the same stale lock, then defers to it', async () => {
    const stale = plantLock({});
    const token = `${lockFile()}.${stale.id}.takeover`;
    writeFileSync(token, JSON.stringify({ pid: process.pid }));
    // The other taker finishes: it removes the stale lock, takes the folder and drops its token.
    setTimeout(() => {
      plantLock({ pid: process.pid, startTicks: ownStartTicks(), command: 'rxtrade other' });
      rmSync(token);
    }, 100);
    await expect(acquire()).rejects.toThrow(/in use by rxtrade other/);
  });

  it('refuses, naming the files, when a process died while taking over a stale lock', async () => {
    const stale = plantLock({});
    const token = `${lockFile()}.${stale.id}.takeover`;
    writeFileSync(token, JSON.stringify({ pid: deadPid() }));
    await expect(acquire()).rejects.toThrow(
      `data/pglite: a process died while taking over a stale lock; if no rxtrade process uses data/pglite, delete ${lockFile()} and ${token}`,
    );
  });

  it('refuses, naming the file, when the lock file is not an rxtrade lock', async () => {
    writeFileSync(lockFile(), 'garbage');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(), old, old);
    await expect(acquire()).rejects.toThrow(
      new RegExp(
        `^data/pglite is locked by ${lockFile()}, which is not an rxtrade lock \\(not JSON\\); if no rxtrade process uses data/pglite, delete that file$`,
      ),
    );
  });

  it('release never removes another acquisition’s lock', async () => {
    const lock = await acquire();
    const other = plantLock({ pid: process.pid });
    lock.release();
    expect(readLockFile().id).toBe(other.id);
  });

  it('is released when the process exits without closing', () => {
    const module = join(fileURLToPath(new URL('../../', import.meta.url)), 'dist/src/storage/pgliteLock.js');
    const script = `
      const { acquirePgliteLock } = await import(${JSON.stringify(module)});
      await acquirePgliteLock(${JSON.stringify(folder)}, 'f', { command: 'child' });
      const fs = await import('node:fs');
      console.log(fs.existsSync(${JSON.stringify(lockFile())}));
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true');
    expect(r.status).toBe(3);
    expect(existsSync(lockFile())).toBe(false);
  });
});

describe('describeCommand', () => {
  it('names the rxtrade subcommand, else the script', () => {
    expect(describeCommand(['/usr/bin/node', '/opt/rxtrade/bin/rxtrade.js', 'start', '--speed', '30'])).toBe(
      'rxtrade start',
    );
    expect(describeCommand(['node', '/x/node_modules/.bin/rxtrade', 'import', '--file', 'f'])).toBe(
      'rxtrade import',
    );
    expect(describeCommand(['node', '/x/jest/bin/jest.js', 'test'])).toBe('jest');
  });
});
