/**
 * Jest setup for every test file: `rxtrade start` serves its API on HTTP_PORT (default 8080). Test files run
 * in parallel, so in-process runs take a free port unless a test sets one.
 */
process.env.HTTP_PORT ??= '0';

// The candle CSV cache (src/streams/candleCsvCache.ts) off: every test that reads a file parses it (the
// cache's own tests turn it on in a folder of their own).
process.env.RXTRADE_CSV_CACHE = '0';
