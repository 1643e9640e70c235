/**
 * Jest setup for every test file: `rxtrade start` serves its API on HTTP_PORT (default 8080). Test files run
 * in parallel, so in-process runs take a free port unless a test sets one.
 */
process.env.HTTP_PORT ??= '0';
