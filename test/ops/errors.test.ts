import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { reportError } from '../../src/cli/main.js';
import {
  ERROR_CODES,
  InternalError,
  InterruptedError,
  RxtradeError,
  UsageError,
} from '../../src/domain/errors.js';
import { migrate } from '../../src/storage/migrate.js';
import { MIGRATIONS } from '../../src/storage/migrations/index.js';
import { freshPglite, freshPostgres } from '../storage/support/databases.js';
import { runCli } from '../support/cli.js';

/** Error codes are one closed set; src throws only project errors; the CLI exits 1 for input, 2 for bugs. */

const root = fileURLToPath(new URL('../../', import.meta.url));

function report(err: unknown): { code: number; stderr: string } {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (b: Buffer) => chunks.push(b));
  const code = reportError(err, stderr);
  return { code, stderr: Buffer.concat(chunks).toString('utf8') };
}

describe('errors', () => {
  it('every code has exactly one kind, and the kinds are input, internal and interrupted', () => {
    expect(new Set(Object.values(ERROR_CODES))).toEqual(new Set(['input', 'internal', 'interrupted']));
    expect(new UsageError('x').kind).toBe('input');
    expect(new InternalError('x').kind).toBe('internal');
    expect(new InterruptedError('x').kind).toBe('interrupted');
    expect(new RxtradeError('db_unavailable', 'x').kind).toBe('input');
  });

  it('src/ throws only project errors (no Error, TypeError, RangeError…) outside the browser bundle', () => {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          // The dashboard's page code runs in the browser, not under the CLI or the API.
          if (relative(root, p) !== join('src', 'http', 'dashboard', 'app')) walk(p);
        } else if (p.endsWith('.ts')) {
          readFileSync(p, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/throw new (Error|TypeError|RangeError|SyntaxError|ReferenceError)\(/.test(line)) {
                found.push(`${relative(root, p)}:${i + 1}`);
              }
            });
        }
      }
    };
    walk(join(root, 'src'));
    expect(found).toEqual([]);
  });

  it('the CLI says bad input in one line with exit 1, an internal error with its stack and exit 2, a stop 130', () => {
    expect(report(new UsageError('--speed must be > 0'))).toEqual({
      code: 1,
      stderr: 'rxtrade: --speed must be > 0\n',
    });
    const internal = report(new RxtradeError('invalid_argument', 'copyRows(t): no columns'));
    expect(internal.code).toBe(2);
    expect(internal.stderr).toMatch(
      /^rxtrade: internal error: RxtradeError: copyRows\(t\): no columns\n\s+at /,
    );
    expect(report(new TypeError('x is undefined')).code).toBe(2);
    expect(report(new InterruptedError('interrupted')).code).toBe(130);
  });

  it('migrate: a migration list out of order is an internal error (exit 2), not bad input', async () => {
    const t = await freshPglite();
    try {
      const err = await migrate(t.db, [MIGRATIONS[1]!, MIGRATIONS[0]!]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'internal', kind: 'internal' });
      const r = report(err);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^rxtrade: internal error: RxtradeError: migration 1 \(initial\) is listed after 2\n/,
      );
    } finally {
      await t.dispose();
    }
  }, 60_000);

  it('rxtrade migrate: a migration the database rejects exits 2 with the stack; an unreachable database exits 1', async () => {
    const t = await freshPostgres();
    try {
      await t.db.exec('CREATE TABLE market_data (x integer)');
      const failed = await runCli(['migrate', '--database-url', t.url!]);
      expect(failed.code).toBe(2);
      expect(failed.stderr).toMatch(
        /^rxtrade: internal error: .*relation "market_data" already exists\n\s+at /,
      );
      const unreachable = await runCli(['migrate', '--database-url', 'postgres://postgres@127.0.0.1:1/x']);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toBe(
        'rxtrade: cannot use Postgres at 127.0.0.1:1/x: nothing answers (ECONNREFUSED) (URL from --database-url)\n',
      );
    } finally {
      await t.dispose();
    }
  }, 60_000);
});
