import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as z from 'zod';
import { DatabaseLockedError } from '../domain/errors.js';

/**
 * An exclusive lock on a PGlite folder, held by one process from open to close.
 *
 * PGlite is Postgres compiled to WASM with no shared memory between processes: two processes writing one
 * folder each believe they own it, and the folder ends up unreadable (`RuntimeError: Aborted()`). So the
 * first process to open a folder writes `rxtrade.lock` in it, and any other process is refused with the
 * holder's pid and command until it closes.
 *
 * The lock file lives INSIDE the folder rather than beside it: the folder's parent need not be writable
 * (a user may own `/var/lib/rxtrade/pglite` and not `/var/lib/rxtrade`), and the lock moves with the folder.
 * Postgres ignores unknown files in its data directory, and PGlite initialises a new folder that already
 * holds the lock. A user who copies the folder while it is open copies the lock too: the lock records the
 * folder's device and inode, so the copy (another inode) sees a lock that is not its own and takes it over.
 *
 * Acquisition is atomic: the content is written to a private temporary file and hard-linked to
 * `rxtrade.lock`; link() fails if the name exists, so exactly one process wins and nobody ever reads a
 * half-written lock. A lock whose process is gone (killed with SIGKILL, a crash, a reboot) is stale and is
 * taken over, with a note; see `takeOver` for why two processes cannot both take one stale lock.
 *
 * Why not proper-lockfile: it decides staleness by the lock's age (the holder must touch it every few
 * seconds), so a killed `start` blocks the next one for that long, a holder whose event loop is busy past
 * the limit loses its lock, and it records no pid or command to tell the user who holds the folder.
 */

export const LOCK_FILE = 'rxtrade.lock';

/**
 * What the lock file holds. Not `.strict()`: a newer rxtrade may add fields, and an older one must still
 * read who holds the folder rather than think the lock is garbage.
 */
const lockSchema = z.object({
  /** Unique per acquisition: tells a lock apart from a later one by the same pid. */
  id: z.string().min(1),
  pid: z.number().int().positive(),
  /** What the holder runs, for the user: `rxtrade start`. */
  command: z.string(),
  /** When the holder took the lock (ISO-8601, UTC). */
  started: z.string(),
  hostname: z.string(),
  /** The running instance's HTTP API, once it serves one: where a second command can go instead. */
  api: z.string().optional(),
  /** Linux: boot id and the process's start time in clock ticks since boot, to detect a reused pid. */
  bootId: z.string().optional(),
  startTicks: z.string().optional(),
  /** The folder's device and inode when the lock was taken: a lock copied with the folder is not ours. */
  folderDev: z.number().optional(),
  folderIno: z.number().optional(),
});

export type PgliteLockInfo = z.infer<typeof lockSchema>;

export interface PgliteLock {
  /** The lock file's absolute path. */
  readonly file: string;
  readonly info: PgliteLockInfo;
  /** Records the running instance's HTTP API URL in the lock (undefined removes it). */
  setApi(url: string | undefined): void;
  /** Removes the lock (idempotent). Also done on process exit if never called. */
  release(): void;
}

export interface AcquireOptions {
  /** Shown to anyone refused: what this process runs (default: from process.argv, e.g. `rxtrade start`). */
  readonly command?: string;
  /** How the one-line note of a stale lock's takeover reaches the user (default: stderr). */
  readonly onNote?: (line: string) => void;
  /** Test seam: awaited after a lock is judged stale and before it is taken over. */
  readonly beforeTakeover?: () => Promise<void>;
}

/** Locks this process holds, by lock file: released synchronously on exit. */
const held = new Map<string, HeldLock>();
let exitHookInstalled = false;

/**
 * Takes the lock on `folder` (absolute, existing), or throws `DatabaseLockedError` naming the holder.
 * `shown` is the folder as the user named it, for messages.
 */
export async function acquirePgliteLock(
  folder: string,
  shown: string,
  options: AcquireOptions = {},
): Promise<PgliteLock> {
  const file = join(folder, LOCK_FILE);
  const folderStat = statSync(folder);
  const me = ownIdentity();
  const info: PgliteLockInfo = {
    id: randomBytes(12).toString('hex'),
    pid: process.pid,
    command: options.command ?? describeCommand(process.argv),
    started: new Date().toISOString(),
    hostname: hostname(),
    ...me,
    folderDev: folderStat.dev,
    folderIno: folderStat.ino,
  };
  const onNote = options.onNote ?? ((line: string) => process.stderr.write(`rxtrade: ${line}\n`));
  const tmp = `${file}.${info.id}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { flag: 'wx' });
  try {
    // Bounded: each round either wins, refuses, or removes a stale lock that someone else then won.
    for (let round = 0; round < 100; round++) {
      if (tryCreate(tmp, file, info)) {
        installExitHook();
        const lock = new HeldLock(file, info);
        held.set(file, lock);
        return lock;
      }
      const current = readLock(file);
      if (current.kind === 'missing') continue;
      if (current.kind === 'unreadable') {
        // A lock being written where hard links are not supported (see tryCreate): look again shortly.
        if (modifiedWithin(file, 2_000)) {
          await sleep(20);
          continue;
        }
        throw new DatabaseLockedError(
          `${shown} is locked by ${file}, which is not an rxtrade lock (${current.reason}); ` +
            `if no rxtrade process uses ${shown}, delete that file`,
        );
      }
      const verdict = judge(current.info, folderStat, me);
      if (verdict.stale === undefined)
        throw new DatabaseLockedError(lockedMessage(shown, current.info, file));
      await options.beforeTakeover?.();
      if (await takeOver(file, current.info, shown, me)) {
        onNote(`${shown}: took over the lock of ${holderText(current.info)}, ${verdict.stale}`);
      }
    }
    throw new DatabaseLockedError(`${shown}: could not take ${file} (it keeps changing); try again`);
  } finally {
    unlinkQuietly(tmp);
  }
}

/**
 * Records the HTTP API of the instance running in this process in the lock of `folder` (as given to
 * `openDatabase`), so that a later command refused the folder can go through it. False if this process
 * does not hold that folder.
 */
export function setPgliteLockApi(folder: string, url: string | undefined): boolean {
  const lock = held.get(join(resolve(folder), LOCK_FILE));
  if (lock === undefined) return false;
  lock.setApi(url);
  return true;
}

/** Who holds `folder`'s lock right now, if anyone does (a later command uses `api` to reach it). */
export function readPgliteLock(folder: string): PgliteLockInfo | undefined {
  const current = readLock(join(folder, LOCK_FILE));
  return current.kind === 'ok' ? current.info : undefined;
}

/** `rxtrade start` from `node …/bin/rxtrade.js start --speed 30`; the script name otherwise. */
export function describeCommand(argv: readonly string[]): string {
  const script = basename(argv[1] ?? 'node').replace(/\.(c|m)?[jt]s$/, '');
  const sub = argv.slice(2).find((a) => !a.startsWith('-'));
  return script === 'rxtrade' && sub !== undefined ? `rxtrade ${sub}` : script;
}

/** The one line a refused process prints. */
export function lockedMessage(shown: string, holder: PgliteLockInfo, file: string): string {
  const api = holder.api !== undefined ? `, API at ${holder.api}` : '';
  // Another host's process cannot be checked from here (nor one in another container): say how to clear it.
  const elsewhere =
    holder.hostname !== hostname() ? ` (if it no longer runs on ${holder.hostname}, delete ${file})` : '';
  return (
    `${shown} is in use by ${holderText(holder)}${api}; stop it first${elsewhere}, ` +
    `or use Postgres through DATABASE_URL to run several processes at once`
  );
}

function holderText(holder: PgliteLockInfo): string {
  const host = holder.hostname !== hostname() ? ` on ${holder.hostname}` : '';
  return `${holder.command} (pid ${holder.pid}${host}, since ${shortTime(holder.started)})`;
}

/** `10:02:11Z` today, `2026-11-30 10:02:11Z` on another day (UTC). */
function shortTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const s = t.toISOString();
  const day = s.slice(0, 10);
  const time = `${s.slice(11, 19)}Z`;
  return day === new Date().toISOString().slice(0, 10) ? time : `${day} ${time}`;
}

type ReadResult =
  { kind: 'ok'; info: PgliteLockInfo } | { kind: 'missing' } | { kind: 'unreadable'; reason: string };

function readLock(file: string): ReadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: codeOf(err) ?? String(err) };
  }
  try {
    const parsed = lockSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { kind: 'ok', info: parsed.data };
    return { kind: 'unreadable', reason: 'unexpected content' };
  } catch {
    return { kind: 'unreadable', reason: 'not JSON' };
  }
}

interface Identity {
  readonly bootId?: string;
  readonly startTicks?: string;
}

/** This process's boot id and start time (Linux); nothing elsewhere, where only the pid is checked. */
function ownIdentity(): Identity {
  return identityOf(process.pid);
}

function identityOf(pid: number): Identity {
  const bootId = readOptional('/proc/sys/kernel/random/boot_id')?.trim();
  const stat = readOptional(`/proc/${pid}/stat`);
  // Field 22 (starttime); the command name (field 2) is in parentheses and may hold spaces.
  const startTicks = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return {
    ...(bootId !== undefined ? { bootId } : {}),
    ...(startTicks !== undefined ? { startTicks } : {}),
  };
}

/** Whether a lock's holder still runs; `stale` says why not, for the takeover note. */
function judge(
  lock: PgliteLockInfo,
  folderStat: { dev: number; ino: number },
  me: Identity,
): { stale?: string } {
  if (
    lock.folderIno !== undefined &&
    (lock.folderIno !== folderStat.ino || lock.folderDev !== folderStat.dev)
  ) {
    return { stale: 'whose lock was copied here with the folder' };
  }
  // Another machine's pid says nothing here (a folder on a network share, another container): assume it
  // runs; the refusal says which file to delete if it does not.
  if (lock.hostname !== hostname()) return {};
  if (lock.bootId !== undefined && me.bootId !== undefined && lock.bootId !== me.bootId) {
    return { stale: 'which ran before the machine restarted' };
  }
  if (!pidExists(lock.pid)) return { stale: 'which is no longer running' };
  if (lock.startTicks !== undefined && me.startTicks !== undefined) {
    const now = identityOf(lock.pid).startTicks;
    if (now !== undefined && now !== lock.startTicks) {
      return { stale: 'which is no longer running (its pid now belongs to another process)' };
    }
  }
  return {};
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return codeOf(err) !== 'ESRCH';
  }
}

/**
 * Removes the stale lock `stale` so the caller can race for the folder again. Returns whether this call
 * removed it.
 *
 * Unlinking a stale lock directly is unsafe: A and B both read the same stale lock, A unlinks it and
 * links its own, then B unlinks A's fresh lock and links its own, and both hold the folder. So removal
 * needs a token, created with O_EXCL and named after the stale lock's unique id: exactly one process gets
 * it, and while holding it checks that `rxtrade.lock` still is that stale lock before unlinking it. Once
 * that lock is gone it never comes back (ids are unique), so a latecomer that gets the token afterwards
 * finds a different lock and leaves it alone.
 */
async function takeOver(file: string, stale: PgliteLockInfo, shown: string, me: Identity): Promise<boolean> {
  const token = `${file}.${stale.id}.takeover`;
  const mine = { pid: process.pid, ...me };
  try {
    writeFileSync(token, JSON.stringify(mine), { flag: 'wx' });
  } catch (err) {
    if (codeOf(err) !== 'EEXIST') throw err;
    return waitForOtherTaker(token, file, shown);
  }
  try {
    const current = readLock(file);
    if (current.kind !== 'ok' || current.info.id !== stale.id) return false;
    unlinkSync(file);
    return true;
  } finally {
    unlinkQuietly(token);
  }
}

/**
 * Another process holds the takeover token: it finishes within microseconds unless it died in between,
 * which cannot be repaired safely without the same race one level up; the user is told what to delete.
 */
async function waitForOtherTaker(token: string, file: string, shown: string): Promise<false> {
  for (let i = 0; i < 100; i++) {
    let taker: { pid?: unknown };
    try {
      taker = JSON.parse(readFileSync(token, 'utf8')) as { pid?: unknown };
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return false;
      taker = {};
    }
    if (typeof taker.pid === 'number' && !pidExists(taker.pid)) break;
    await sleep(20);
  }
  throw new DatabaseLockedError(
    `${shown}: a process died while taking over a stale lock; ` +
      `if no rxtrade process uses ${shown}, delete ${file} and ${token}`,
  );
}

/** Link errors that mean "this filesystem has no hard links" (some FUSE, SMB and FAT mounts). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Creates `file` with `info` unless it exists: link() where possible, else O_EXCL and a write. */
function tryCreate(tmp: string, file: string, info: PgliteLockInfo): boolean {
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EEXIST') return false;
    if (code === undefined || !NO_LINKS.has(code)) throw err;
  }
  try {
    // Atomic too, but a reader may see the file empty for a moment: readers retry young unreadable locks.
    writeFileSync(file, `${JSON.stringify(info)}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return false;
    throw err;
  }
}

function modifiedWithin(file: string, ms: number): boolean {
  try {
    return statSync(file).mtimeMs > Date.now() - ms;
  } catch {
    return true; // gone meanwhile: the next round sees it missing
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class HeldLock implements PgliteLock {
  constructor(
    readonly file: string,
    private current: PgliteLockInfo,
  ) {}

  get info(): PgliteLockInfo {
    return this.current;
  }

  setApi(url: string | undefined): void {
    if (held.get(this.file) !== this) return;
    const { api: _old, ...rest } = this.current;
    this.current = url !== undefined ? { ...rest, api: url } : rest;
    // Written aside and renamed over the lock, so readers never see a half-written file.
    const tmp = `${this.file}.${this.current.id}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.current)}\n`);
    renameSync(tmp, this.file);
  }

  /** Unlinks the lock file if it still is this lock (never another process's lock). */
  release(): void {
    if (held.get(this.file) !== this) return;
    held.delete(this.file);
    const current = readLock(this.file);
    if (current.kind === 'ok' && current.info.id === this.current.id) unlinkQuietly(this.file);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: everything above is.
  process.on('exit', () => {
    for (const lock of [...held.values()]) lock.release();
  });
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
