/**
 * A value made on its first use, then kept. For module-level values only some commands need: a zod
 * schema, say, costs every process that loads its module ~0.3–1 ms to build (the first of a process
 * several ms), whether the process ever parses with it or not.
 */
export function once<T>(make: () => T): () => T {
  let made = false;
  let value: T | undefined;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
