import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_URL } from '../storage/support/databases.js';
import { runCli } from '../support/cli.js';

/**
 * Database and Redis settings as a user gets them wrong. The built CLI runs in a child process, so what
 * Node or pg print on the process's own stderr (warnings, stacks) is seen too.
 */
const bin = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin/rxtrade.js');
const dir = mkdtempSync(join(tmpdir(), 'rxtrade-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rxtrade(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const clean = { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'silent', ...env };
    execFile(process.execPath, [bin, ...args], { env: clean, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
    });
  });
}

/** The test server's URL for a database that does not exist: nothing can be changed through it. */
function postgresUrl(query: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = '/rxtrade_no_such_database';
  url.search = query;
  return url.toString();
}

describe('connection settings', () => {
  it('refuses an SSL connection the server does not give in one line, exit 1, without pg warning', async () => {
    for (const query of ['?sslmode=require', '?ssl=true']) {
      const r = await rxtrade(['migrate', '--database-url', postgresUrl(query)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      // Local test servers have no SSL; one with it would refuse our certificate check instead.
      expect(lines[0]).toMatch(
        /^rxtrade: cannot use Postgres at .*\/rxtrade_no_such_database: (the server does not accept SSL connections, and the URL asks for them \(sslmode or ssl\): use sslmode=disable, or drop the setting|its SSL certificate is not trusted .*) \(URL from --database-url\)$/,
      );
    }
  }, 60_000);

  describe('a port where something other than Postgres answers', () => {
    let server: Server;
    let port: number;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    it('is one line, exit 1, naming the variable the URL came from', async () => {
      const url = `postgres://postgres@127.0.0.1:${port}/rxtrade`;
      const r = await rxtrade(['migrate'], { DATABASE_URL: url });
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: `rxtrade: cannot use Postgres at 127.0.0.1:${port}/rxtrade: something answers there but closed the connection: is it a Postgres server? (URL from DATABASE_URL)\n`,
      });
    }, 60_000);
  });

  it.each([
    [['migrate', '--database-url', 'garbage'], 'rxtrade: --database-url is not a URL: "garbage"\n'],
    [
      ['collect', '--symbols', 'BTC-USDT', '--sim', '--redis-url', 'garbage'],
      'rxtrade: --redis-url is not a URL: "garbage"\n',
    ],
    [
      ['start', '--redis-url', 'http://127.0.0.1:6379'],
      'rxtrade: --redis-url must start with redis:// or rediss://, got "http://127.0.0.1:6379"\n',
    ],
  ])('checks %j as strictly as its environment variable, naming the flag', async (argv, stderr) => {
    const pglite = argv[0] === 'migrate' ? [] : ['--pglite', join(dir, 'pglite')];
    expect(await runCli([...argv, ...pglite])).toEqual({ code: 1, stdout: '', stderr });
  });
});
