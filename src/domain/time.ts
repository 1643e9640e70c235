/** Epoch ms as ISO-8601 text (UTC) for messages and reports; a value that is no time is shown as it is. */
export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
