import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../../src/storage/database.js';
import { PgliteDatabase } from '../../../src/storage/pgliteDatabase.js';

/** The maintenance database used to create and drop per-file test databases (never touched otherwise). */
export const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly db: Database;
  /** Postgres only: the database's name and connection string. */
  readonly name?: string;
  readonly url?: string;
  /** Closes the connection and, for Postgres, drops the database this file created. */
  dispose(): Promise<void>;
}

/**
 * A fresh, empty Postgres database `rxtrade_test_<random>` for one test file, dropped in dispose().
 * If Postgres is down this rejects (the suite fails loudly; it is never skipped).
 */
export async function freshPostgres(): Promise<TestDatabase> {
  const name = `rxtrade_test_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString() });
  return {
    db,
    name,
    url: url.toString(),
    dispose: async () => {
      await db.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A fresh, empty in-memory PGlite database. Started from a copy of an empty data directory (made once per
 * PGlite version and kept in the temp folder), so it skips initdb: a few times less CPU than
 * `openDatabase({ pglitePath: 'memory://' })`, which tests of opening PGlite itself use.
 */
export async function freshPglite(): Promise<TestDatabase> {
  const pglite = new PGlite('memory://', { loadDataDir: await emptyDataDir() });
  await pglite.waitReady;
  const db = new PgliteDatabase(pglite);
  return { db, dispose: () => db.close() };
}

/**
 * Makes `path` a PGlite database folder as initdb leaves it (no migrations applied, no rxtrade lock), copied
 * from a template made once per PGlite version in the temp folder, and returns `path`. PGlite's initdb
 * costs 4–10 s of CPU per new folder; a command given this folder opens it as an existing, empty database
 * and applies the migrations itself. For tests whose subject is not the creation of a folder (tests of
 * that — migrate, pgliteFolder, doctor, the first `start` — give the command a new path).
 */
export async function seededPgliteFolder(path: string): Promise<string> {
  cpSync(await emptyFolder(), path, { recursive: true });
  return path;
}

let emptyFolderMade: Promise<string> | undefined;

function emptyFolder(): Promise<string> {
  emptyFolderMade ??= (async () => {
    const folder = join(tmpdir(), `rxtrade-test-pglite-folder-${await pgliteVersion()}`);
    if (existsSync(join(folder, 'PG_VERSION'))) return folder;
    // Made aside and renamed: a test file starting meanwhile sees a whole folder or none.
    const tmp = `${folder}.${process.pid}.${randomBytes(4).toString('hex')}`;
    const made = new PGlite(tmp);
    await made.waitReady;
    await made.close();
    try {
      await rename(tmp, folder);
    } catch {
      await rm(tmp, { recursive: true, force: true }); // another test file renamed its own first
    }
    return folder;
  })();
  return emptyFolderMade;
}

async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pkg = join(dirname(dirname(entry)), 'package.json');
  return (JSON.parse(await readFile(pkg, 'utf8')) as { version: string }).version;
}

let emptyDir: Promise<Blob> | undefined;

/** An initialised, empty PGlite data directory (a tarball), read from the temp folder or made there. */
function emptyDataDir(): Promise<Blob> {
  emptyDir ??= (async () => {
    const file = join(tmpdir(), `rxtrade-test-pglite-empty-${await pgliteVersion()}.tar`);
    try {
      return new Blob([await readFile(file)]);
    } catch {
      const fresh = new PGlite('memory://');
      await fresh.waitReady;
      const dump = await fresh.dumpDataDir('none');
      await fresh.close();
      // Written aside and renamed: a test file starting meanwhile reads a whole tarball or none.
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
      await rename(tmp, file);
      return dump;
    }
  })();
  return emptyDir;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Postgres tests need a server at ${ADMIN_URL} (set TEST_POSTGRES_ADMIN_URL): ${String(err)}`,
      {
        cause: err,
      },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
