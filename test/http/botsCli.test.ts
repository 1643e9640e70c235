import { runCli } from '../support/cli.js';
import { call, databaseUrlOf, startTestApi, type TestApi } from './support/apiServer.js';

/** `rxtrade bots list|start|stop|pause|resume` against a running API (port 0), in-process. */
describe('rxtrade bots over the API', () => {
  let api: TestApi;
  const saved = { ...process.env };
  beforeAll(async () => {
    api = await startTestApi('postgres', { config: { token: 'tok' } });
    const r = await call(
      api.url,
      'POST',
      '/api/bots',
      { bot_id: 'alpha', strategy: 'ema_crossover', symbol: 'BTC-USDT', virtual_balance: 1000 },
      { authorization: 'Bearer tok' },
    );
    expect(r.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await api?.close();
  });

  it('pauses, resumes, stops and starts a bot; a refused action exits 1 with the reason', async () => {
    const url = api.url;
    expect(await runCli(['bots', 'pause', 'alpha', '--url', url, '--token', 'tok'])).toEqual({
      code: 0,
      stdout: 'alpha: paused\n',
      stderr: '',
    });
    expect((await runCli(['bots', 'resume', 'alpha', '--url', url, '--token', 'tok'])).stdout).toBe(
      'alpha: active\n',
    );
    expect((await runCli(['bots', 'stop', 'alpha', '--url', url, '--token', 'tok'])).stdout).toBe(
      'alpha: inactive\n',
    );
    const again = await runCli(['bots', 'stop', 'alpha', '--url', url, '--token', 'tok']);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: 'rxtrade: POST /api/bots/alpha/stop: bot "alpha" is stopped already (status inactive)\n',
    });
    const json = await runCli(['bots', 'start', 'alpha', '--url', url, '--token', 'tok', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(expect.objectContaining({ bot_id: 'alpha', status: 'active' }));
    const unknown = await runCli(['bots', 'start', 'ghost', '--url', url, '--token', 'tok']);
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'rxtrade: POST /api/bots/ghost/start: no bot "ghost"\n',
    ]);
  });

  it('uses RXTRADE_API_TOKEN, and says when the token is missing', async () => {
    delete process.env.RXTRADE_API_TOKEN;
    const denied = await runCli(['bots', 'pause', 'alpha', '--url', api.url]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('needs the API token');
    expect(denied.stderr).toContain('(--token or RXTRADE_API_TOKEN)');
    process.env.RXTRADE_API_TOKEN = 'tok';
    expect((await runCli(['bots', 'pause', 'alpha', '--url', api.url])).stdout).toBe('alpha: paused\n');
    expect((await runCli(['bots', 'resume', 'alpha', '--url', api.url])).stdout).toBe('alpha: active\n');
  });

  it('refuses a bad bot id before any request', async () => {
    const r = await runCli(['bots', 'start', '../etc', '--url', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bot id "../etc": use 1 to 64 lower-case letters');
  });

  it('says clearly when no instance runs', async () => {
    const r = await runCli(['bots', 'stop', 'alpha', '--url', 'http://127.0.0.1:1']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'rxtrade: no rxtrade instance answers at http://127.0.0.1:1: start one with `rxtrade start` (or give --url)\n',
    });
    const list = await runCli(['bots', 'list', '--url', 'http://127.0.0.1:1']);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain('no rxtrade instance answers at http://127.0.0.1:1');
  });

  it('lists the bots of the running instance (the default URL from HTTP_HOST/HTTP_PORT)', async () => {
    process.env.HTTP_HOST = '127.0.0.1';
    process.env.HTTP_PORT = String(api.server.port);
    const r = await runCli(['bots', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^BOT +STATUS +SYMBOL/);
    expect(r.stdout).toMatch(/\nalpha +active +BTC-USDT +ema_crossover 1m +1000\.00/);
    const json = await runCli(['bots', 'list', '--url', api.url, '--json']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ bot_id: 'alpha', status: 'active' })]);
  });

  it('reads the database when no instance answers', async () => {
    process.env.HTTP_PORT = '1';
    process.env.DATABASE_URL = databaseUrlOf(api);
    const r = await runCli(['bots', 'list', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ bot_id: 'alpha', status: 'active' })]);
  });
});
