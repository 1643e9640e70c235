/** True when `pattern` uses Redis glob syntax, so it needs PSUBSCRIBE rather than SUBSCRIBE. */
export function isGlob(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

/**
 * A matcher with Redis' PSUBSCRIBE semantics (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`), so the in-process
 * bus routes exactly like Redis does.
 */
export function globMatcher(pattern: string): (channel: string) => boolean {
  if (!isGlob(pattern)) return (channel) => channel === pattern;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '\\' && i + 1 < pattern.length) source += escape(pattern[++i] as string);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else source += escape(c);
  }
  const re = new RegExp(`^${source}$`, 's');
  return (channel) => re.test(channel);
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
