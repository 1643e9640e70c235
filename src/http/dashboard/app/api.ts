/// <reference lib="dom" />

/** An error answer of the API: `{ error: { code, message, details } }` (src/http/README.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The offending field's path (`risk.sizing.type`) on a 400. */
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
}

const TOKEN_KEY = 'rxtrade.apiToken';

/**
 * The API token (RXTRADE_API_TOKEN) of a server bound beyond loopback: asked for once, on the first 401,
 * and kept for the browser session only.
 */
export function apiToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Asks for the token; false when the user declines. */
export function askToken(): boolean {
  const token = window.prompt('This rxtrade server needs its API token (RXTRADE_API_TOKEN):');
  if (token === null || token.trim() === '') return false;
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  return true;
}

/** Calls the API (same origin) and returns its JSON; an error status becomes an ApiError. */
export async function api<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
  const send = () => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = apiToken();
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  let response = await send();
  if (response.status === 401 && askToken()) response = await send();
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as ErrorBody | undefined)?.error;
    const field = error?.details?.['field'];
    throw new ApiError(
      response.status,
      error?.code ?? 'http_' + response.status,
      error?.message ?? `${method} ${path}: HTTP ${response.status}`,
      typeof field === 'string' ? field : undefined,
      error?.details,
    );
  }
  return json as T;
}

export const get = <T>(path: string): Promise<T> => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown): Promise<T> => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown): Promise<T> => api<T>('PUT', path, body);

/** `?a=1&b=x` from the defined entries. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
