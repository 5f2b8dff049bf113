/**
 * Credentials for servers behind a proxy or a login plugin, turned into what every channel
 * carries (REST, the WebSocket upgrade, /view, uploads): request headers and query parameters.
 * ComfyUI itself has no authentication; these are for what sits in front of it.
 */
import { ComfyError } from './errors';

export type AuthMode = 'none' | 'basic' | 'bearer' | 'query';

export interface AuthSettings {
  mode: AuthMode;
  user?: string;
  password?: string;
  /** Bearer token, or the query token for mode 'query'. */
  token?: string;
  /** Name of the query parameter for mode 'query' (login plugins often use `token`). */
  queryParam?: string;
  /** Extra headers sent on every channel, whatever the mode. */
  headers?: Record<string, string>;
}

export interface AuthParts {
  headers: Record<string, string>;
  query: Record<string, string>;
  /** Every secret value, so that anything printed can be redacted. */
  secrets: string[];
}

export function authParts(settings: AuthSettings | undefined): AuthParts {
  const parts: AuthParts = { headers: {}, query: {}, secrets: [] };
  if (!settings) return parts;
  for (const [name, value] of Object.entries(settings.headers ?? {})) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new ComfyError('INVALID_CONFIG', `"${name}" is not a valid HTTP header name`);
    parts.headers[name] = String(value);
    parts.secrets.push(String(value));
  }
  switch (settings.mode) {
    case 'basic': {
      const user = settings.user ?? '';
      const password = settings.password ?? '';
      const encoded = Buffer.from(`${user}:${password}`).toString('base64');
      parts.headers.Authorization = `Basic ${encoded}`;
      parts.secrets.push(encoded, password);
      break;
    }
    case 'bearer':
      if (settings.token) {
        parts.headers.Authorization = `Bearer ${settings.token}`;
        parts.secrets.push(settings.token);
      }
      break;
    case 'query':
      if (settings.token) {
        parts.query[settings.queryParam || 'token'] = settings.token;
        parts.secrets.push(settings.token, encodeURIComponent(settings.token));
      }
      break;
    default:
      break;
  }
  // Very short values would redact ordinary words; they are still never printed on purpose.
  parts.secrets = [...new Set(parts.secrets.filter((secret) => secret.length >= 4))];
  return parts;
}

/** Parses the "custom headers" credential: a JSON object of header name → value. */
export function parseHeaderJson(text: string | undefined): Record<string, string> {
  if (!text || !text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ComfyError('INVALID_CONFIG', 'Custom headers must be a JSON object like {"X-Api-Key": "…"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ComfyError('INVALID_CONFIG', 'Custom headers must be a JSON object like {"X-Api-Key": "…"}');
  }
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([name, value]) => [name, String(value)]));
}
