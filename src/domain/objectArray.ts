/**
 * An empty array that V8 stores as an array of objects from the start. A `[]` starts as an array of small
 * integers and changes its kind at its first push of an object, so code V8 compiled while it saw one kind
 * deoptimizes when it meets the other. Arrays made anew for every backtest (the book's open positions, the
 * venue's pending orders) did that in every thread of a parameter search: the book's applyFill was
 * compiled three times per thread (--trace-deopt: "wrong map", "not a Smi" at its push).
 */
export function objectArray<T extends object>(): T[] {
  const a = [OBJECT_KIND] as T[];
  a.length = 0;
  return a;
}

const OBJECT_KIND = Object.freeze({});
