import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { readEnv } from '../../src/config/env.js';
import { refusedPort } from '../support/servers.js';

/**
 * The Docker files, checked without a Docker daemon (none runs where these tests run): the compose file's
 * services and environment against what rxtrade reads, .env.example against the compose file, the
 * Dockerfile's COPY sources, stages and user, the runtime stage's packages against what the code imports,
 * and the healthcheck command itself against a live and a dead /api/health.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (name: string): string => readFileSync(join(root, name), 'utf8');

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

/** KEY=value lines of .env.example (comments and blank lines skipped). */
const envExample = new Map(
  read('.env.example')
    .split('\n')
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
);

/** Compose's interpolation: ${X}, ${X:-default}, ${X:?error}, $$ → $. */
function interpolate(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g,
    (all, name?: string, op?: string, arg?: string) => {
      if (all === '$$') return '$';
      const value = vars.get(name!) ?? '';
      if (op === '-') return value === '' ? arg! : value;
      if (op === '?' && value === '') throw new Error(`compose would stop: ${arg}`);
      return value;
    },
  );
}

/** Every environment variable name rxtrade reads (src/config/env.ts reads them all, by name). */
function namesReadByRxtrade(): Set<string> {
  const text = read('src/config/env.ts');
  return new Set([...text.matchAll(/\b(?:get|url)\('([A-Z_][A-Z0-9_]*)'/g)].map((m) => m[1]!));
}

describe('docker-compose.yml', () => {
  it('runs Postgres 15 on a named volume, Redis 7, and rxtrade built here, waiting for both', () => {
    const { postgres, redis, rxtrade } = compose.services;
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'redis', 'rxtrade']);
    expect(postgres!.image).toBe('postgres:15');
    const pgVolume = postgres!.volumes!.find((v) => v.endsWith(':/var/lib/postgresql/data'));
    expect(pgVolume).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(pgVolume!.split(':')[0]);
    expect(redis!.image).toBe('redis:7');
    expect(rxtrade!.build).toBe('.');
    expect(rxtrade!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(postgres!.healthcheck!.test.join(' ')).toContain('pg_isready');
    expect(redis!.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    // Published on the host's loopback only.
    expect(rxtrade!.ports).toEqual(['127.0.0.1:${RXTRADE_HTTP_PORT:-8080}:8080']);
  });

  it("gives rxtrade only variables it reads, and with .env.example's values they pass its checks", () => {
    const env = compose.services.rxtrade!.environment!;
    const known = namesReadByRxtrade();
    for (const name of Object.keys(env)) expect([name, known.has(name)]).toEqual([name, true]);
    const vars = new Map(
      [...envExample].map(([k, v]) => [k, v === '' && k === 'RXTRADE_API_TOKEN' ? 'x'.repeat(32) : v]),
    );
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, interpolate(String(v), vars)]),
    );
    const parsed = readEnv(resolved);
    expect(parsed.databaseUrl).toBe('postgres://rxtrade:change-me@postgres:5432/rxtrade');
    expect(parsed.redisUrl).toBe('redis://redis:6379');
    expect(parsed.httpHost).toBe('0.0.0.0');
    expect(parsed.httpPort).toBe(8080);
    expect(parsed.okxConfigured).toBe(false); // the OKX_* left empty: the embedded simulator
    expect(resolved.RXTRADE_API_TOKEN).toBe('x'.repeat(32));
    // Without a token, compose refuses to start rather than rxtrade listening on 0.0.0.0 unprotected.
    expect(() => interpolate(String(env.RXTRADE_API_TOKEN), envExample)).toThrow(
      'set RXTRADE_API_TOKEN in .env',
    );
  });

  it('.env.example defines every variable the compose file interpolates, and nothing else', () => {
    const text = read('docker-compose.yml');
    const used = new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!));
    expect([...envExample.keys()].sort()).toEqual([...used].sort());
  });
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: { name: string; lines: string[] }[] = [];
  for (const l of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(l);
    if (from !== null) stages.push({ name: from[1] ?? String(stages.length), lines: [] });
    else stages.at(-1)!.lines.push(l);
  }
  const runtime = stages.at(-1)!;
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));

  it('is multi-stage; the runtime installs production packages only and runs as a non-root user', async () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(runtime.lines).toContainEqual(expect.stringMatching(/^RUN npm ci --omit=dev /));
    expect(runtime.lines.filter((l) => l.startsWith('USER '))).toEqual(['USER node']);
    // Nothing runs as root after USER, and the command is rxtrade's `start`.
    const after = runtime.lines.slice(runtime.lines.indexOf('USER node'));
    expect(after.filter((l) => l.startsWith('RUN '))).toEqual([]);
    expect(runtime.lines.at(-1)).toBe('CMD ["node", "bin/rxtrade.js", "start"]');
    // The command it runs exists in the built CLI.
    const help = await new Promise<number>((resolve) => {
      execFile(
        process.execPath,
        [join(root, 'bin/rxtrade.js'), 'start', '--help'],
        { timeout: 30_000 },
        (err) => resolve(err === null ? 0 : Number(err.code)),
      );
    });
    expect(help).toBe(0);
  });

  it('copies only what exists in the repository and is not excluded from the build context', () => {
    const copies = stages.flatMap((s) => s.lines).filter((l) => l.startsWith('COPY '));
    const sources: string[] = [];
    for (const c of copies) {
      const parts = c.split(/\s+/).slice(1);
      const from = parts.find((p) => p.startsWith('--from='));
      const args = parts.filter((p) => !p.startsWith('--'));
      if (from !== undefined) {
        expect(stages.map((s) => s.name)).toContain(from.slice('--from='.length));
        continue;
      }
      sources.push(...args.slice(0, -1));
    }
    expect(sources.length).toBeGreaterThan(5);
    for (const s of sources) {
      expect([s, existsSync(join(root, s))]).toEqual([s, true]);
      expect([s, ignored.includes(s.split('/')[0]!)]).toEqual([s, false]);
    }
    // What tsconfig.build.json compiles is all copied into the build stage.
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    for (const dir of build.include) expect(sources).toContain(dir);
  });

  it("has every package the code imports in package.json's dependencies (the runtime has no others)", () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const missing: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        // The dashboard's browser code is bundled by esbuild into dist/dashboard in the build stage.
        if (e.isDirectory()) {
          if (relative(root, p) !== join('src', 'http', 'dashboard', 'app')) walk(p);
        } else if (p.endsWith('.ts')) {
          const text = readFileSync(p, 'utf8');
          for (const m of text.matchAll(
            /^import (?!type )[^;]*?from '([^.'][^']*)'|import\('([^.'][^']*)'\)/gm,
          )) {
            const spec = (m[1] ?? m[2])!;
            const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
            if (!builtins.has(name.replace(/^node:/, '')) && pkg.dependencies[name] === undefined) {
              missing.push(`${relative(root, p)}: ${spec}`);
            }
          }
        }
      }
    };
    walk(join(root, 'src'));
    walk(join(root, 'backtests'));
    expect(missing).toEqual([]);
  });

  describe('healthcheck', () => {
    const healthcheck = lines.find((l) => l.startsWith('HEALTHCHECK '))!;
    const cmd = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    let server: Server;
    let status = 200;
    const paths: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        paths.push(req.url ?? '');
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const run = (port: number) =>
      new Promise<number>((resolve) => {
        expect(cmd[0]).toBe('node');
        execFile(
          process.execPath,
          cmd.slice(1),
          { env: { HTTP_PORT: String(port) }, timeout: 20_000 },
          (err) => resolve(err === null ? 0 : Number(err.code)),
        );
      });

    it('asks /api/health on HTTP_PORT: healthy on 200, unhealthy on 503 or nothing listening', async () => {
      expect(healthcheck).toMatch(
        /^HEALTHCHECK --interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+\s+CMD /,
      );
      const port = (server.address() as AddressInfo).port;
      expect(await run(port)).toBe(0);
      expect(paths).toEqual(['/api/health']);
      status = 503;
      expect(await run(port)).toBe(1);
      expect(await run(await refusedPort())).toBe(1);
    }, 60_000);
  });
});
