/**
 * The body of POST /comfyui/test (the values of a server dialog, maybe never deployed) turned
 * into client options. The body is untrusted: every field is typed and bounded, unknown fields
 * are ignored, and no error quotes a credential.
 *
 * Stored secrets are the point of care: the editor sends `__PWRD__` for a password field it did
 * not change, and the stored value is used for it ONLY when the dialog still points at the
 * deployed URL of the deployed `comfyui-server` it edits. Any other URL (another host, port or
 * base path) is tested with what was typed into the dialog, so a dialog cannot send one node's
 * secrets (or another node type's, such as an MQTT broker's password) to a server of its choosing.
 */
import type { NodeAPI } from 'node-red';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { AuthMode } from '../client/auth';
import type { ClientOptions } from '../client/client';
import { sameServer } from '../client/endpoint';
import { ComfyError } from '../client/errors';
import { choiceOf, isUnset, textOf } from './msg-input';
import type { ServerNode } from './server-api';
import { clientOptionsFrom, SERVER_CREDENTIALS } from './server-options';
import type { ServerCredentials, ServerSettings } from './server-options';

/** What the editor sends back for a password credential it did not change. */
export const UNCHANGED = '__PWRD__';

const AUTH_MODES: readonly AuthMode[] = ['none', 'basic', 'bearer', 'query'];
const CREDENTIAL_FIELDS = Object.keys(SERVER_CREDENTIALS) as (keyof ServerCredentials)[];
/** Longer than any real value, short enough that nothing big is kept or parsed. */
const MAX = { url: 2048, id: 256, setting: 256, credential: 16384 } as const;

interface TestRequest {
  id: string;
  settings: ServerSettings;
  /** As sent: a value, the UNCHANGED placeholder, or undefined. */
  credentials: ServerCredentials;
}

export interface TestPlan {
  options: ClientOptions;
  /** True when the dialog left a stored secret unchanged but it could not be used for this URL. */
  withheld: boolean;
}

/** Client options for testing the dialog values in `body`; BAD_INPUT (or INVALID_CONFIG) when they cannot be used. */
export function testPlan(RED: NodeAPI, body: unknown): TestPlan {
  const request = readTestRequest(body);
  const lender = deployedLender(RED, request);
  const stored: ServerCredentials = lender?.credentials ?? {};
  const credentials: ServerCredentials = {};
  let withheld = false;
  for (const key of CREDENTIAL_FIELDS) {
    const value = request.credentials[key];
    // Without a lender the placeholder means "no value": nothing stored leaves for this URL.
    if (value === UNCHANGED && !lender) withheld = true;
    credentials[key] = value === UNCHANGED ? stored[key] : value;
  }
  return { options: clientOptionsFrom(RED, request.settings, credentials), withheld };
}

/** The deployed server whose stored secrets this test may use, if any. */
function deployedLender(RED: NodeAPI, request: TestRequest): (ServerNode & { credentials?: ServerCredentials }) | undefined {
  if (!request.id) return undefined;
  const node = RED.nodes.getNode(request.id) as (ServerNode & { credentials?: ServerCredentials }) | null;
  if (!node || node.type !== 'comfyui-server' || !node.settings) return undefined;
  if (!sameServer(request.settings.url, String(node.settings.url ?? ''))) return undefined;
  // A stored secret never goes over TLS that checks less than the deployed configuration does.
  if ((request.settings.tls ?? '') !== (node.settings.tls ?? '') && !verifiesCertificates(RED, request.settings.tls)) return undefined;
  return node;
}

/** Whether this tls-config (or none: Node's defaults) verifies the server's certificate. */
function verifiesCertificates(RED: NodeAPI, tlsId: string | undefined): boolean {
  if (!tlsId) return true;
  const node = RED.nodes.getNode(tlsId) as { type?: string; addTLSOptions?: (options: TlsOptions) => TlsOptions } | null;
  if (!node || node.type !== 'tls-config' || typeof node.addTLSOptions !== 'function') return false;
  return node.addTLSOptions({ rejectUnauthorized: true }).rejectUnauthorized !== false;
}

function readTestRequest(body: unknown): TestRequest {
  const root = objectOf(body, 'The request body');
  const settings = objectOf(root.settings, 'settings');
  const url = bounded(textOf({ value: settings.url, from: 'settings.url' }), MAX.url, 'settings.url');
  if (!url) throw new ComfyError('BAD_INPUT', 'settings.url is required');
  const credentials = isUnset(root.credentials) ? {} : objectOf(root.credentials, 'credentials');
  return {
    id: bounded(textOf({ value: root.id, from: 'id' }), MAX.id, 'id'),
    settings: {
      url,
      timeout: secondsOf(settings.timeout, 'settings.timeout'),
      stall: secondsOf(settings.stall, 'settings.stall'),
      auth: choiceOf({ value: settings.auth, from: 'settings.auth' }, AUTH_MODES, 'none'),
      queryParam: bounded(textOf({ value: settings.queryParam, from: 'settings.queryParam' }), MAX.setting, 'settings.queryParam'),
      tls: bounded(textOf({ value: settings.tls, from: 'settings.tls' }), MAX.setting, 'settings.tls'),
    },
    credentials: Object.fromEntries(CREDENTIAL_FIELDS.map((key) => [key, credentialOf(credentials[key], key)])),
  };
}

/** A JSON object; the error names only the kind of what came (it may be a credential). */
function objectOf(value: unknown, from: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new ComfyError('BAD_INPUT', `${from} must be a JSON object; got ${kind}`);
  }
  return value as Record<string, unknown>;
}

function bounded(text: string, max: number, from: string): string {
  if (text.length > max) throw new ComfyError('BAD_INPUT', `${from} is longer than ${max} characters`);
  return text;
}

/** A number of seconds as the dialog sends it (text) or as a number; its meaning is checked later. */
function secondsOf(value: unknown, from: string): string | number | undefined {
  if (isUnset(value)) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length <= 32) return value;
  throw new ComfyError('BAD_INPUT', `${from} must be a number of seconds`);
}

/** A credential as sent, never quoted back: not even its type beyond "not a string". */
function credentialOf(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX.credential) {
    throw new ComfyError('BAD_INPUT', `credentials.${key} must be a string of at most ${MAX.credential} characters`);
  }
  return value;
}
