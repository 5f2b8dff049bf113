/**
 * "Test connection": walks from the network up to ComfyUI itself and says which step failed
 * and why, in words a person can act on: reachability (TCP, then TLS) → HTTP with the
 * credentials → the WebSocket upgrade → feature flags → object_info.
 * It uses its own short-lived socket with its own clientId, never the live one.
 * A step's message never carries text from the tested server's answers (see diagnose-verdict).
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import type { ClientOptions } from './client';
import { StepFailure, verdict } from './diagnose-verdict';
import { Endpoint } from './endpoint';
import { decodeTextFrame } from './frames';
import { ComfyHttp } from './http';

export type StepName = 'reachability' | 'http' | 'websocket' | 'feature_flags' | 'object_info';

export interface StepResult {
  step: StepName;
  ok: boolean;
  /** Plain words: what was found, or what is wrong and what to check. */
  message: string;
}

export interface Diagnosis {
  ok: boolean;
  steps: StepResult[];
}

const STEP_COUNT = 5;

export async function diagnose(options: ClientOptions): Promise<Diagnosis> {
  const steps: StepResult[] = [];
  let endpoint: Endpoint;
  try {
    endpoint = new Endpoint(options);
  } catch (err) {
    return { ok: false, steps: [{ step: 'reachability', ok: false, message: (err as Error).message }] };
  }
  const timeoutMs = Math.min(options.timeoutMs ?? 10_000, 10_000);
  const http = new ComfyHttp(endpoint, { timeoutMs });
  const result = (): Diagnosis => ({ ok: steps.length === STEP_COUNT && steps.every((s) => s.ok), steps });
  /** `request` names what the step asks, for the verdict when it fails. */
  const run = async (step: StepName, request: string, check: () => Promise<string>): Promise<boolean> => {
    try {
      steps.push({ step, ok: true, message: await check() });
      return true;
    } catch (err) {
      steps.push({ step, ok: false, message: endpoint.redact(verdict(err, request, timeoutMs)) });
      return false;
    }
  };
  try {
    if (!(await run('reachability', 'the connection', () => reach(endpoint, timeoutMs)))) return result();
    if (!(await run('http', 'GET /system_stats', () => httpCheck(http)))) return result();
    // One short-lived socket answers both the upgrade and the feature-flags steps.
    const ws = await webSocketCheck(endpoint, timeoutMs);
    steps.push({ step: 'websocket', ...ws.upgrade });
    if (!ws.upgrade.ok) return result();
    steps.push({ step: 'feature_flags', ...ws.flags });
    if (!ws.flags.ok) return result();
    await run('object_info', 'GET /object_info/SaveImage', () => objectInfoCheck(http));
    return result();
  } finally {
    await http.close();
  }
}

/** TCP, then for https the TLS handshake with the configured CA / client certificate. */
function reach(endpoint: Endpoint, timeoutMs: number): Promise<string> {
  const url = endpoint.base;
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(endpoint.tls ?? {}) })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StepFailure(`no answer from ${host}:${port} within ${timeoutMs} ms (a firewall, or the wrong host?)`));
    }, timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve(secure ? `${host}:${port} answers, and its TLS certificate is trusted` : `${host}:${port} answers`);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new StepFailure(transportReason(err, host, port)));
    });
  });
}

async function httpCheck(http: ComfyHttp): Promise<string> {
  const stats = await http.systemStats();
  // The answer is typed by the boundary (a BAD_RESPONSE when it is not ComfyUI's shape); the
  // version is shown only when it looks like one: the answer is not ours to print.
  const version = stats.system.comfyui_version;
  const shown = typeof version === 'string' && /^v?\d{1,4}(\.\d{1,6}){0,3}([-+][0-9A-Za-z.]{1,24})?$/.test(version);
  return `HTTP works${shown ? `: ComfyUI ${version}` : ''}`;
}

async function objectInfoCheck(http: ComfyHttp): Promise<string> {
  const info = await http.objectInfo('SaveImage');
  if (!info || typeof info !== 'object' || !info.SaveImage)
    throw new StepFailure('GET /object_info/SaveImage did not describe SaveImage: this does not look like ComfyUI');
  return 'node definitions are readable (SaveImage found)';
}

interface WsOutcome {
  upgrade: { ok: boolean; message: string };
  flags: { ok: boolean; message: string };
}

function webSocketCheck(endpoint: Endpoint, timeoutMs: number): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(endpoint.webSocketUrl(`node-red-test-${randomUUID().slice(0, 8)}`), {
      headers: endpoint.requestHeaders(),
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
      ...(endpoint.tls ?? {}),
    });
    let settled = false;
    let opened = false;
    const finish = (outcome: WsOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.on('error', () => undefined);
      if (ws.readyState === WebSocket.OPEN) ws.close();
      else ws.terminate();
      resolve(outcome);
    };
    const failUpgrade = (message: string): void =>
      finish({ upgrade: { ok: false, message: endpoint.redact(message) }, flags: { ok: false, message: '' } });
    const timer = setTimeout(() => {
      if (opened)
        finish({
          upgrade: { ok: true, message: 'the WebSocket upgrade works' },
          flags: { ok: false, message: `no answer to feature_flags within ${timeoutMs} ms: this does not look like ComfyUI` },
        });
      else failUpgrade(`the WebSocket upgrade got no answer within ${timeoutMs} ms (a proxy that does not forward WebSockets?)`);
    }, timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const why =
        status === 401
          ? 'the WebSocket upgrade was refused with 401: check credentials (the proxy must accept them on /ws too)'
          : status === 403
            ? 'the WebSocket upgrade was refused with 403: check credentials; without a proxy, ComfyUI answers 403 when an Origin header does not match the Host'
            : status === 404
              ? 'the WebSocket upgrade got 404: check the base path, and that the proxy forwards /ws'
              : `the WebSocket upgrade was answered with HTTP ${status} (a proxy that does not forward WebSockets?)`;
      failUpgrade(why);
    });
    // ws words its own errors (a handshake header, a frame layout): they quote nothing the server sent.
    ws.on('error', (err) => failUpgrade(`the WebSocket failed: ${err.message.slice(0, 200)}`));
    ws.on('open', () => {
      opened = true;
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      // The socket keeps the default binaryType: a text frame arrives as one Buffer. Read through the boundary.
      const frame = decodeTextFrame((data as Buffer).toString('utf8'));
      if (frame.kind !== 'message' || frame.message.type !== 'feature_flags') return;
      const limit = frame.message.data.max_upload_size;
      finish({
        upgrade: { ok: true, message: 'the WebSocket upgrade works' },
        flags: {
          ok: true,
          message: `ComfyUI answered its feature flags${typeof limit === 'number' ? ` (uploads up to ${Math.round(limit / 1048576)} MB)` : ''}`,
        },
      });
    });
  });
}

/** Transport errors in words: refused, DNS, TLS with its reason. */
function transportReason(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}:${port}: is ComfyUI running, and listening on that address (--listen)?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} cannot be resolved (DNS)`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host}:${port} cannot be reached (${err.code})`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS error: ${err.message} (${err.code}): give the server's CA in a TLS configuration, or check the host name`;
    default:
      if (/ssl|tls|certificate|handshake/i.test(err.message)) return `TLS error: ${err.message}${err.code ? ` (${err.code})` : ''}`;
      return `${host}:${port}: ${err.message}${err.code ? ` (${err.code})` : ''}`;
  }
}
