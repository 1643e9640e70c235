import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Middleware } from 'koa';
import serveStatic from 'koa-static';
import { packageRoot } from '../../cli/packageRoot.js';

export interface DashboardOptions {
  /** The built page (`npm run build` writes it to `dist/dashboard/` of the package). */
  readonly root?: string;
}

/** Where `npm run build` puts the bundled page (esbuild, see package.json `build:dashboard`). */
export function dashboardRoot(): string {
  return join(packageRoot(), 'dist', 'dashboard');
}

/**
 * Serves the dashboard: `GET /` is the page, `/main.js` and `/main.css` its bundle (Vega, Vega-Lite, the
 * Socket.IO client: nothing is fetched from elsewhere, so it works offline). Anything else goes on to the
 * next middleware, so the API app mounts it in front of its routers. A package that was never built
 * answers `/` with 503 and says how to build it.
 */
export function dashboardMiddleware(options: DashboardOptions = {}): Middleware {
  const root = options.root ?? dashboardRoot();
  // Bundle names carry no hash, so nothing is cached: a rebuilt page is picked up on reload.
  const assets = serveStatic(root, { index: 'index.html' });
  return async (ctx, next) => {
    if (ctx.path.startsWith('/api/') || ctx.path.startsWith('/socket.io/')) return next();
    if (ctx.path === '/' && ctx.method === 'GET' && !existsSync(join(root, 'index.html'))) {
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = `rxtrade: the dashboard is not built (no ${root}): run \`npm run build\`\n`;
      return;
    }
    return assets(ctx, next);
  };
}
