import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import { dashboardMiddleware } from '../../src/http/dashboard/serve.js';

/** The middleware alone, in front of a stand-in for the API's routers. */
async function start(root: string): Promise<{ url: string; server: Server }> {
  const app = new Koa();
  app.use(dashboardMiddleware({ root }));
  app.use((ctx) => {
    ctx.body = { next: ctx.path };
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('dashboardMiddleware', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-dash-'));
  });
  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves the page and its assets; everything else goes on to the API', async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>rxtrade</title>');
    writeFileSync(join(dir, 'main.js'), 'console.log(1)');
    const started = await start(dir);
    server = started.server;
    const page = await fetch(`${started.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>rxtrade</title>');
    const script = await fetch(`${started.url}/main.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    for (const path of ['/api/bots', '/metrics', '/socket.io/x', '/missing.js']) {
      await expect((await fetch(`${started.url}${path}`)).json()).resolves.toEqual({ next: path });
    }
    // Only reads: a POST to / is the API's business.
    await expect((await fetch(`${started.url}/`, { method: 'POST' })).json()).resolves.toEqual({ next: '/' });
  });

  test('an unbuilt package answers / with 503 saying how to build it', async () => {
    const started = await start(join(dir, 'nothing-here'));
    server = started.server;
    const page = await fetch(`${started.url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/npm run build/);
  });
});
