import { accessSync, constants, mkdirSync, readdirSync, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, parse, resolve } from 'node:path';
import { DatabaseFolderError } from '../domain/errors.js';
import { LOCK_FILE } from './pgliteLock.js';

/**
 * Checks a PGlite path before anything is written or PGlite is started, so that a bad path gives one line
 * naming it instead of a hang, a stack or a Postgres data directory spilled into the wrong place.
 *
 * Why not `mkdirSync(path, { recursive: true })`: Node's recursive mkdir loops forever when a parent exists
 * but cannot hold children. /proc answers ENOENT to mkdir('/proc/nope'), Node then "creates" the parent
 * (/proc: EEXIST, fine) and retries the child, forever, at 100 % CPU inside one synchronous call, so the
 * event loop never runs the SIGINT/SIGTERM handlers and only SIGKILL stops it. Here the missing folders
 * are created one at a time, each error is final, and /proc and /sys are refused before that.
 */

/** Filesystems that live in the kernel, not on a disk (statfs f_type magic numbers, linux/magic.h). */
const VIRTUAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
]);

/** What rxtrade itself keeps in the folder (the lock and its temporary files): not "other files". */
function isOurs(name: string): boolean {
  return name.startsWith(LOCK_FILE);
}

export interface PgliteFolder {
  /** Absolute path. */
  readonly path: string;
  /** The folder as the user named it, for messages. */
  readonly shown: string;
}

/**
 * Validates `path` and creates it (and missing parents) if needed. An existing folder must be empty, a
 * PGlite database (PG_VERSION), or hold an rxtrade lock (someone else may be creating the database: the
 * lock decides, and `checkPgliteContents` looks again once it is held). Throws `DatabaseFolderError`.
 * With `create: false` it only checks (the folders that would be created are not).
 */
export function preparePgliteFolder(path: string, options: { create?: boolean } = {}): PgliteFolder {
  const shown = path === '' ? '""' : path;
  const abs = resolve(path);
  const refuse = (reason: string): never => {
    throw new DatabaseFolderError(
      `${shown} cannot hold a PGlite database: ${reason}; point --pglite at a folder on a writable disk`,
    );
  };
  if (path.trim() === '') refuse('the path is empty');
  if (abs === parse(abs).root) refuse('it is the root folder');
  const top = /^\/(proc|sys)(\/|$)/.exec(abs);
  if (top !== null) refuse(`/${top[1]} is a virtual filesystem of the kernel, not a disk`);

  const { existing, stats, missing } = nearestExisting(abs, refuse);
  if (!stats.isDirectory()) {
    refuse(
      existing === abs
        ? `it is ${kindOf(stats)}, not a folder`
        : `${existing} is ${kindOf(stats)}, so no folder can be made under it`,
    );
  }
  const fsType = virtualFilesystem(existing);
  if (fsType !== undefined)
    refuse(`${existing} is on ${fsType}, a virtual filesystem of the kernel, not a disk`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    refuse(`${existing} ${describeAccessError(err)}`);
  }

  if (missing.length === 0) {
    checkContents(abs, shown, { allowLocked: true });
    return { path: abs, shown };
  }
  // `create: false` (rxtrade doctor): every check above, nothing written.
  if (options.create === false) return { path: abs, shown };
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') refuse(`cannot create ${dir} (${describeError(err)})`);
      // Created meanwhile by someone else (fine), or a dangling symbolic link / a file (not fine).
      let now: Stats | undefined;
      try {
        now = statSync(dir);
      } catch {
        refuse(`${dir} is a symbolic link to a missing folder`);
      }
      if (now !== undefined && !now.isDirectory()) refuse(`${dir} is ${kindOf(now)}, not a folder`);
    }
  }
  return { path: abs, shown };
}

/**
 * Under the lock: the folder must be empty (a new database) or a PGlite database. Never writes anything;
 * a folder of other files is refused before rxtrade (or PGlite's initdb) puts a single file in it.
 */
export function checkPgliteContents(folder: PgliteFolder): void {
  checkContents(folder.path, folder.shown, { allowLocked: false });
}

function checkContents(abs: string, shown: string, options: { allowLocked: boolean }): void {
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch (err) {
    throw new DatabaseFolderError(
      `${shown} cannot hold a PGlite database: cannot list it (${describeError(err)}); point --pglite at a folder you can read`,
    );
  }
  if (names.includes('PG_VERSION')) return;
  const others = names.filter((n) => !isOurs(n));
  if (others.length === 0) return;
  if (options.allowLocked && names.includes(LOCK_FILE)) return;
  const sample = others.sort().slice(0, 3).join(', ') + (others.length > 3 ? ', …' : '');
  throw new DatabaseFolderError(
    `${shown} is not a PGlite database (no PG_VERSION) and holds other files (${sample}); ` +
      `nothing was written there: point --pglite at a new or empty folder`,
  );
}

/** Walks up from `abs` to the first path that exists; `missing` are the folders to create, top first. */
function nearestExisting(
  abs: string,
  refuse: (reason: string) => never,
): { existing: string; stats: Stats; missing: string[] } {
  const missing: string[] = [];
  let probe = abs;
  for (;;) {
    try {
      return { existing: probe, stats: statSync(probe), missing };
    } catch (err) {
      const code = codeOf(err);
      // ENOTDIR: a component above is a file; walking up finds it and says so.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') refuse(`${probe}: ${describeError(err)}`);
    }
    missing.unshift(probe);
    const parent = dirname(probe);
    if (parent === probe) refuse('no part of it exists');
    probe = parent;
  }
}

function virtualFilesystem(path: string): string | undefined {
  try {
    return VIRTUAL_FILESYSTEMS.get(statfsSync(path).type);
  } catch {
    return undefined; // statfs unsupported here: the access and mkdir checks still apply
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFile()) return 'a file';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'not a folder';
}

function describeAccessError(err: unknown): string {
  switch (codeOf(err)) {
    case 'EROFS':
      return 'is on a read-only filesystem';
    case 'EACCES':
    case 'EPERM':
      return 'is not writable by this user';
    default:
      return `cannot be written (${describeError(err)})`;
  }
}

const MESSAGES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only filesystem',
  ENOSPC: 'no space left on the device',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EIO: 'input/output error',
};

function describeError(err: unknown): string {
  const code = codeOf(err);
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  return `${MESSAGES[code] ?? 'error'}, ${code}`;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
