/**
 * A `comfyui-server` configuration (settings + credentials + an optional tls-config node)
 * turned into client options. Shared by the config node and by "Test connection", which tests
 * the values of an undeployed dialog the same way.
 */
import type { Node, NodeAPI } from 'node-red';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { parseHeaderJson } from '../client/auth';
import type { AuthMode } from '../client/auth';
import type { ClientOptions } from '../client/client';
import { ComfyError } from '../client/errors';
import { defaultHttpLimits } from '../client/http';
import { defaultSocketOptions } from '../client/socket';

export interface ServerSettings {
  url: string;
  timeout?: string | number;
  stall?: string | number;
  auth?: AuthMode;
  queryParam?: string;
  /** Id of a Node-RED `tls-config` node: custom CA, client certificate, verification switch. */
  tls?: string;
  /** Limits on what the server may send (empty: the defaults of src/client/http.ts and socket.ts). */
  maxFileMB?: string | number;
  maxAnswerMB?: string | number;
  maxFrameMB?: string | number;
  /** Seconds one download may take in all. */
  downloadTimeout?: string | number;
  /** Characters of an error message or a status. */
  maxText?: string | number;
  /** The context store that keeps prompts in flight and the client id (empty: the default store); see job-store.ts. */
  jobStore?: string;
}

export interface ServerCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** JSON object of extra header name → value. */
  headers?: string;
  /** comfy.org API key for ComfyUI's paid API nodes. */
  apiKey?: string;
}

/** Credential types, declared once for registerType (the editor declares the same). */
export const SERVER_CREDENTIALS = {
  user: { type: 'text' },
  password: { type: 'password' },
  token: { type: 'password' },
  headers: { type: 'password' },
  apiKey: { type: 'password' },
} as const;

interface TlsConfigNode extends Node {
  addTLSOptions(options: TlsOptions): TlsOptions;
}

export function clientOptionsFrom(RED: NodeAPI, settings: ServerSettings, credentials: ServerCredentials = {}): ClientOptions {
  const options: ClientOptions = {
    url: settings.url,
    timeoutMs: secondsToMs(settings.timeout, 30),
    tracker: { watchdogMs: secondsToMs(settings.stall, 60) },
    limits: {
      maxFileBytes: positive(settings.maxFileMB, defaultHttpLimits.maxFileBytes / MB) * MB,
      maxJsonBytes: positive(settings.maxAnswerMB, defaultHttpLimits.maxJsonBytes / MB) * MB,
      downloadTimeoutMs: secondsToMs(settings.downloadTimeout, defaultHttpLimits.downloadTimeoutMs / 1000),
      maxTextLength: Math.max(80, Math.round(positive(settings.maxText, defaultHttpLimits.maxTextLength))),
    },
    socket: { maxFrameBytes: positive(settings.maxFrameMB, defaultSocketOptions.maxFrameBytes / MB) * MB },
    auth: {
      mode: settings.auth ?? 'none',
      user: credentials.user,
      password: credentials.password,
      token: credentials.token,
      queryParam: settings.queryParam || 'token',
      headers: parseHeaderJson(credentials.headers),
    },
  };
  if (credentials.apiKey) options.comfyOrgApiKey = credentials.apiKey;
  if (settings.tls) {
    // Only a tls-config node: any other node found under that id is not ours to ask for TLS options.
    const tlsNode = RED.nodes.getNode(settings.tls) as TlsConfigNode | null;
    if (!tlsNode || tlsNode.type !== 'tls-config' || typeof tlsNode.addTLSOptions !== 'function') {
      throw new ComfyError('INVALID_CONFIG', 'The TLS configuration this server refers to is not a deployed tls-config node');
    }
    // Verification stays on unless the TLS configuration turns it off.
    options.tls = tlsNode.addTLSOptions({ rejectUnauthorized: true });
  }
  return options;
}

const MB = 1024 * 1024;

/** Node's timers fire at once (after 1 ms) for any longer delay, about 24.8 days. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Seconds as milliseconds; a setting beyond what a timer can wait means "practically never", not "at once". */
function secondsToMs(value: string | number | undefined, fallback: number): number {
  return Math.min(positive(value, fallback) * 1000, LONGEST_TIMER_MS);
}

/** A setting as a positive number; empty or anything else (flows saved before the setting) gives the fallback. */
function positive(value: string | number | undefined, fallback: number): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) && number > 0 ? number : fallback;
}
