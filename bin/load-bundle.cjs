'use strict';
// Loads one of the CommonJS bundles of dist/bundle (scripts/bundle.mjs) through a V8 code cache: the
// bytecode of every function a command ran the last time, kept in dist/bundle/cache/. With it V8 neither
// parses nor compiles the bundle's functions again; without it (the first run of a command after a build,
// another Node, RXTRADE_CODE_CACHE=0) the bundle is compiled as usual and the cache is written for the
// next run. Node 20 keeps no such cache itself (module.enableCompileCache is Node 22's).
//
// Measured here (`perf stat -r 8`, the README's 71 k-candle runs, against the ES module bundle this
// replaced): `backtest --json` 0.446 → 0.367 s wall (CPU 0.62 → 0.45 s), the 90-combination `optimize`
// 0.735 → 0.661 s (each worker thread loads its bundle from its own cache too).
//
// The cache is checked by V8 (its version, its flags, the source's length, the data's own length) and by
// its file's name (the bundle's size and modification time, Node's version and the machine): a rebuilt
// bundle or another Node never meets a cache made for something else. A cache that cannot be read, or that
// V8 rejects, costs nothing but the compile; one that cannot be written (a read-only install) is simply
// not kept. It is written aside and renamed, never in place; like the bundle beside it, it is trusted as it
// is (V8 keeps no checksum of it, and one of ours would need node:zlib or node:crypto: ~7 ms to load).
const fs = require('node:fs');
const { createRequire } = require('node:module');
const { basename, dirname, join } = require('node:path');
const vm = require('node:vm');

/** `RXTRADE_CODE_CACHE=0` (or off/false/no): compile every time, keep no cache. */
function cacheEnabled() {
  const v = (process.env.RXTRADE_CODE_CACHE ?? '').trim().toLowerCase();
  return !['0', 'off', 'false', 'no'].includes(v);
}

/**
 * Runs the bundle FILE (a .cjs file) and returns its exports; `cache`, what became of the code cache
 * ('used', 'missing', 'rejected' by V8, or 'off'); and `saveCodeCache`: a function that, when the cache
 * was missing or rejected, writes this thread's compiled functions to it (a no-op otherwise, and after its
 * first call). Call it once the command has run what its next runs will want: the cache then holds those
 * functions' bytecode. KEY tells apart the caches of one bundle used different ways (a command's name):
 * each holds the functions that use ran.
 */
function loadBundle(file, key = 'main') {
  const source = fs.readFileSync(file, 'utf8');
  const enabled = cacheEnabled();
  const { size, mtimeMs } = fs.statSync(file);
  const dir = join(dirname(file), 'cache');
  // Node's and V8's flags: V8 refuses a cache made under other flags, so each set keeps its own (a run
  // with --inspect, say, does not throw away the plain runs' cache, nor they its).
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const prefix = `${basename(file, '.cjs')}.${key}${flags === '' ? '' : `-${hash(flags)}`}.`;
  const cacheFile = join(
    dir,
    `${prefix}${process.version}-${process.arch}.${size}-${Math.trunc(mtimeMs)}.bin`,
  );
  let cachedData;
  if (enabled) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined; // none yet
    }
  }
  // The wrapper's first line is not the file's: lineOffset keeps stack traces on the bundle's lines.
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {\n${source}\n})`,
    {
      filename: file,
      lineOffset: -1,
      cachedData,
      // No import() callback: Node 20 loses it for a script made from a code cache. The bundles have no
      // import() (scripts/bundle.mjs turns those of packages into require()s).
    },
  );
  const cache = !enabled
    ? 'off'
    : cachedData === undefined
      ? 'missing'
      : script.cachedDataRejected === true
        ? 'rejected'
        : 'used';
  let pending = cache === 'missing' || cache === 'rejected';
  const saveCodeCache = () => {
    if (!pending) return;
    pending = false;
    try {
      const data = script.createCachedData();
      fs.mkdirSync(dir, { recursive: true });
      // Written aside and renamed: a process reading the cache meanwhile sees the old file or the new one.
      const tmp = `${cacheFile}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, cacheFile);
      // Caches of this bundle and key for an earlier build or another Node, and what a thread ended while
      // writing left.
      for (const f of fs.readdirSync(dir)) {
        if (f.startsWith(prefix) && join(dir, f) !== cacheFile) fs.rmSync(join(dir, f), { force: true });
      }
    } catch {
      // Not writable (a read-only install): the next run compiles again, as this one did.
    }
  };
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, cache, saveCodeCache };
}

/** A short hash of a string, for a file name (FNV-1a, 32 bits, in base 36). */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

module.exports = { loadBundle };
