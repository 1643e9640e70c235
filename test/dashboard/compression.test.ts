import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { dashboardRoot } from '../../src/http/dashboard/serve.js';
import type { DashboardBackend } from './support/backend.js';
import { startRealBackend } from './support/realApi.js';

/**
 * Compressed responses from the real app (createHttpApp with the dashboard, as `rxtrade start` serves it):
 * the ~1 MB bundle and the API's JSON go out gzip or br when the client asks, as is otherwise.
 * Needs `npm run build` (the bundle).
 */

interface Raw {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A GET with exactly these headers (fetch would add Accept-Encoding and decode by itself). */
function rawGet(url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

let backend: DashboardBackend;

beforeAll(async () => {
  if (!existsSync(join(dashboardRoot(), 'main.js'))) {
    throw new Error(`the dashboard is not built (${dashboardRoot()}): run \`npm run build\` first`);
  }
  backend = await startRealBackend();
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

describe('response compression', () => {
  test('the dashboard bundle is sent gzip or br when asked, and as is otherwise', async () => {
    const file = readFileSync(join(dashboardRoot(), 'main.js'));
    expect(file.length).toBeGreaterThan(100_000);

    const gz = await rawGet(`${backend.url}/main.js`, { 'accept-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['vary']).toMatch(/accept-encoding/i);
    expect(gz.body.length).toBeLessThan(file.length / 2);
    expect(gunzipSync(gz.body).equals(file)).toBe(true);

    const br = await rawGet(`${backend.url}/main.js`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(file)).toBe(true);

    const plain = await rawGet(`${backend.url}/main.js`, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(file)).toBe(true);
  });

  test('API JSON is compressed too, and decodes to the same answer', async () => {
    const path = '/api/market/BTC-USDT/history?timeframe=1m&limit=240';
    const plain = await rawGet(backend.url + path, {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const answer = JSON.parse(plain.body.toString('utf8')) as { t: number[] };
    expect(answer.t).toHaveLength(240);

    const gz = await rawGet(backend.url + path, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toMatch(/application\/json/);
    expect(gz.body.length).toBeLessThan(plain.body.length);
    expect(JSON.parse(gunzipSync(gz.body).toString('utf8'))).toEqual(answer);
  });
});
