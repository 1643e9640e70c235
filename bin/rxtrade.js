#!/usr/bin/env node
// The rxtrade command. The TypeScript is compiled to dist/ by `npm run build` (run by `npm ci` via prepare).
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    process.stderr.write(
      'rxtrade: not built yet: run `npm run build` in the rxtrade folder (npm ci does it)\n',
    );
    process.exit(1);
  }
  throw err;
}

// A closed pipe (`rxtrade candles … | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const interrupted = new Promise((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
process.exitCode = await cli.main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: Boolean(process.stderr.isTTY),
  interrupted,
});
