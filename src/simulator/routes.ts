/**
 * The HTTP handlers, ported from server.py of ComfyUI v0.8.0 statement by statement where the
 * answer depends on it (odd bodies, Python `in` on lists/strings, crash → 500), with the shapes
 * of the recordings (m_info_endpoints, j_view, k_upload_loadimage, h_queue, i_history, l_free…).
 * Each handler returns a Reply; server.ts routes, applies the origin check and test faults.
 */
import { randomUUID, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { freemem, totalmem } from 'node:os';
import { basename, extname, join, normalize, resolve } from 'node:path';
import { MODEL_FOLDERS } from './catalog';
import { guessMimeType, isInside } from './files';
import { Reply, binary, empty, fileReply, json, text } from './http-util';
import { encodeJpeg } from './jpeg';
import { listJobs, getJob } from './jobs';
import { FileField, parseForm } from './multipart';
import { decodePng, encodePng } from './png';
import { PyDict, PyValue, hasKey, isDict, parsePyJson, setKey, PyJsonDecodeError } from './pyjson';
import { PyError, pyDictGet, pyFloat, pyGetItem, pyIn, pyInt, pyIter, pyStr, truthy } from './python';
import { ComfyState } from './state';
import { validatePrompt } from './validate';
import { encodeWebpLossless } from './webp';

export interface RouteContext {
  req: IncomingMessage;
  query: URLSearchParams;
  params: Record<string, string>;
  /** the request body, read lazily with the max_upload_size rule (BodyTooLarge → 413) */
  body(): Promise<Buffer>;
  state: ComfyState;
  port: number;
  previewMethod: string;
}

export type Handler = (ctx: RouteContext) => Promise<Reply> | Reply;

export interface Route {
  method: 'GET' | 'POST' | 'PATCH';
  pattern: string;
  handler: Handler;
}

const SENSITIVE_EXTRA_DATA_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];

const INDEX_HTML =
  '<!doctype html><html><head><title>ComfyUI simulator</title></head><body>ComfyUI simulator (node-red-comfyui test server; no frontend).</body></html>\n';

/** request.json(): UTF-8 text through json.loads (errors propagate → 500). */
async function bodyJson(ctx: RouteContext): Promise<PyValue> {
  const raw = await ctx.body();
  const decoded = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  return parsePyJson(decoded);
}

/** Python int() of a query string value (500 when malformed). */
function queryInt(v: string): number {
  return Number(pyInt(v));
}

/* -------------------------------------------------------------- /prompt */

async function postPrompt(ctx: RouteContext): Promise<Reply> {
  const { state } = ctx;
  state.log('got prompt');
  const data = await bodyJson(ctx);
  let number: PyValue;
  if (pyIn('number', data)) {
    number = pyFloat(pyGetItem(data, 'number'));
  } else {
    number = state.number;
    if (pyIn('front', data) && truthy(pyGetItem(data, 'front'))) number = -state.number;
    state.number += 1;
  }
  if (!pyIn('prompt', data)) {
    const error = { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} };
    return json({ error, node_errors: {} }, 400);
  }
  const prompt = pyGetItem(data, 'prompt');
  const promptId = pyIn('prompt_id', data) ? pyStr(pyGetItem(data, 'prompt_id')) : randomUUID();
  const partial = pyIn('partial_execution_targets', data) ? pyGetItem(data, 'partial_execution_targets') : null;
  const valid = validatePrompt(state.catalog, state.folders, prompt, partial);
  let extra: PyValue = {};
  if (pyIn('extra_data', data)) extra = pyGetItem(data, 'extra_data');
  if (pyIn('client_id', data)) {
    if (!isDict(extra)) throw new PyError('TypeError', `'${typeof extra}' object does not support item assignment`);
    setKey(extra, 'client_id', pyGetItem(data, 'client_id'));
  }
  if (!valid.ok) {
    state.log(`invalid prompt: ${valid.error.message}`);
    return json({ error: valid.error, node_errors: valid.nodeErrors }, 400);
  }
  const sensitive: PyDict = {};
  for (const key of SENSITIVE_EXTRA_DATA_KEYS) {
    if (pyIn(key, extra)) {
      sensitive[key] = pyGetItem(extra, key);
      delete (extra as PyDict)[key];
    }
  }
  if (!isDict(extra)) throw new PyError('TypeError', 'object does not support item assignment');
  setKey(extra, 'create_time', Date.now());
  state.queue.put([number, promptId, prompt as PyDict, extra, valid.outputs, sensitive]);
  state.executor.kick();
  return json({ prompt_id: promptId, number, node_errors: valid.nodeErrors });
}

/* --------------------------------------------------------- queue & co. */

async function postQueue(ctx: RouteContext): Promise<Reply> {
  const data = await bodyJson(ctx);
  const { queue } = ctx.state;
  if (pyIn('clear', data) && truthy(pyGetItem(data, 'clear'))) queue.wipe();
  if (pyIn('delete', data)) {
    for (const id of pyIter(pyGetItem(data, 'delete'))) queue.deleteWhere((item) => item[1] === id);
  }
  return empty();
}

async function postInterrupt(ctx: RouteContext): Promise<Reply> {
  let data: PyValue;
  try {
    data = await bodyJson(ctx);
  } catch (e) {
    if (!(e instanceof PyJsonDecodeError)) throw e;
    data = {};
  }
  const promptId = pyDictGet(data, 'prompt_id', null);
  if (truthy(promptId)) {
    if (typeof promptId === 'string') ctx.state.executor.interrupt(promptId);
    else ctx.state.log(`Prompt ${pyStr(promptId)} is not currently running, skipping interrupt`);
  } else {
    ctx.state.executor.interrupt();
  }
  return empty();
}

async function postFree(ctx: RouteContext): Promise<Reply> {
  const data = await bodyJson(ctx);
  const unload = pyDictGet(data, 'unload_models', false);
  const free = pyDictGet(data, 'free_memory', false);
  if (truthy(unload)) ctx.state.executor.setFlag('unload_models', unload);
  if (truthy(free)) ctx.state.executor.setFlag('free_memory', free);
  return empty();
}

function getHistory(ctx: RouteContext): Reply {
  const maxItems = ctx.query.has('max_items') ? queryInt(ctx.query.get('max_items')!) : null;
  const offset = ctx.query.has('offset') ? queryInt(ctx.query.get('offset')!) : -1;
  return json(ctx.state.queue.getHistory(maxItems, offset));
}

async function postHistory(ctx: RouteContext): Promise<Reply> {
  const data = await bodyJson(ctx);
  const { history } = ctx.state.queue;
  if (pyIn('clear', data) && truthy(pyGetItem(data, 'clear'))) history.clear();
  if (pyIn('delete', data)) {
    for (const id of pyIter(pyGetItem(data, 'delete'))) {
      if (Array.isArray(id) || isDict(id)) throw new PyError('TypeError', 'unhashable type');
      if (typeof id === 'string') history.delete(id);
    }
  }
  return empty();
}

/* --------------------------------------------------------------- /view */

function readImage(file: string): { width: number; height: number; rgba: Uint8Array; hasAlpha: boolean; texts: Array<[string, string]> } {
  // PIL would open any format; the simulator decodes PNG (everything it writes); others → 500
  return decodePng(readFileSync(file));
}

function view(ctx: RouteContext): Reply {
  const q = ctx.query;
  const { folders } = ctx.state;
  if (!q.has('filename')) return empty(404);
  const annotated = folders.annotated(q.get('filename')!);
  let name = annotated.name;
  if (!name) return empty(400);
  if (name[0] === '/' || name.includes('..')) return empty(400);
  let dir = annotated.dir ?? folders.byType(q.get('type') ?? 'output');
  if (!dir) return empty(400);
  if (q.has('subfolder')) {
    const full = resolve(dir, q.get('subfolder')!);
    if (!isInside(dir, full)) return empty(403);
    dir = full;
  }
  name = basename(name);
  const file = join(dir, name);
  let st;
  try {
    st = statSync(file);
  } catch {
    return empty(404);
  }
  if (!st.isFile()) return empty(404);
  const disposition = { 'Content-Disposition': `filename="${name}"` };

  if (q.has('preview')) {
    const info = q.get('preview')!.split(';');
    const channel = q.get('channel') ?? '';
    let format = info[0];
    if (!['webp', 'jpeg'].includes(format) || channel.includes('a')) format = 'webp';
    const last = info[info.length - 1];
    const quality = /^\d+$/.test(last) ? Number(last) : 90;
    const img = readImage(file);
    const rgb = format === 'jpeg' || channel === 'rgb';
    const n = img.width * img.height;
    const px = new Uint8Array(n * (rgb ? 3 : 4));
    for (let p = 0; p < n; p++) for (let c = 0; c < (rgb ? 3 : 4); c++) px[p * (rgb ? 3 : 4) + c] = img.rgba[p * 4 + c]!;
    // PIL writes lossy WebP at `quality`; the simulator writes lossless WebP (same type, real image)
    const body =
      format === 'jpeg' ? encodeJpeg(img.width, img.height, px, quality) : encodeWebpLossless(img.width, img.height, px, rgb ? 3 : 4);
    return binary(body, `image/${format}`, disposition);
  }

  const channel = q.get('channel') ?? 'rgba';
  if (channel === 'rgb' || channel === 'a') {
    const img = readImage(file);
    const n = img.width * img.height;
    if (channel === 'rgb') {
      const px = new Uint8Array(n * 3);
      for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) px[p * 3 + c] = img.rgba[p * 4 + c]!;
      return binary(encodePng({ width: img.width, height: img.height, channels: 3, data: px }, { level: 6 }), 'image/png', disposition);
    }
    const px = new Uint8Array(n * 4);
    for (let p = 0; p < n; p++) px[p * 4 + 3] = img.hasAlpha ? img.rgba[p * 4 + 3] : 255;
    return binary(encodePng({ width: img.width, height: img.height, channels: 4, data: px }, { level: 6 }), 'image/png', disposition);
  }

  // web.FileResponse: the raw file, with conditional requests and byte ranges
  let type = guessMimeType(name) ?? 'application/octet-stream';
  if (['text/html', 'text/html-sandboxed', 'application/xhtml+xml', 'text/javascript', 'text/css'].includes(type))
    type = 'application/octet-stream';
  const etag = `"${BigInt(Math.trunc(st.mtimeMs * 1e6)).toString(16)}-${st.size.toString(16)}"`;
  const headers: Record<string, string> = {
    ...disposition,
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': st.mtime.toUTCString(),
  };
  const inm = ctx.req.headers['if-none-match'];
  if (
    inm &&
    inm
      .split(',')
      .map((s) => s.trim())
      .includes(etag)
  )
    return { status: 304, headers, body: Buffer.alloc(0) };
  const ims = ctx.req.headers['if-modified-since'];
  if (!inm && ims && !Number.isNaN(Date.parse(ims)) && Math.floor(st.mtimeMs / 1000) <= Date.parse(ims) / 1000) {
    return { status: 304, headers, body: Buffer.alloc(0) };
  }
  const size = st.size;
  const range = ctx.req.headers.range;
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (m && (m[1] || m[2])) {
    let start = m[1] ? Number(m[1]) : size - Number(m[2]);
    let end = m[1] ? (m[2] ? Number(m[2]) : size - 1) : size - 1;
    start = Math.max(0, start);
    end = Math.min(end, size - 1);
    if (start > end || start >= size) {
      return { status: 416, headers: { 'Content-Range': `bytes */${size}`, 'Content-Length': '0' }, body: Buffer.alloc(0) };
    }
    return fileReply(file, { start, end }, type, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}` }, 206);
  }
  return fileReply(file, { start: 0, end: size - 1 }, type, headers);
}

/* ------------------------------------------------------------- uploads */

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** /upload/mask's save function: the original's RGB (and PNG text) with the upload's alpha. */
function mergeMask(ctx: RouteContext, originalRefText: string | undefined, image: FileField, filepath: string): void {
  if (originalRefText === undefined) throw new PyError('TypeError', 'the JSON object must be str, bytes or bytearray, not NoneType');
  const ref = parsePyJson(originalRefText);
  const { folders } = ctx.state;
  const a = folders.annotated(pyStr(pyGetItem(ref, 'filename')));
  if (!a.name || a.name[0] === '/' || a.name.includes('..')) return; // the handler's 400 is discarded
  let dir = a.dir ?? folders.byType(pyStr(pyDictGet(ref, 'type', 'output')));
  if (!dir) return;
  const sub = pyDictGet(ref, 'subfolder', '');
  if (sub !== '') {
    const full = resolve(dir, pyStr(sub));
    if (!isInside(dir, full)) return;
    dir = full;
  }
  const file = join(dir, a.name);
  if (!existsSync(file) || !statSync(file).isFile()) return;
  const original = decodePng(readFileSync(file));
  const mask = decodePng(image.data);
  if (mask.width !== original.width || mask.height !== original.height) throw new PyError('ValueError', 'images do not match');
  const px = Buffer.from(original.rgba);
  for (let p = 0; p < original.width * original.height; p++) px[p * 4 + 3] = mask.rgba[p * 4 + 3]!;
  writeFileSync(
    filepath,
    encodePng({ width: original.width, height: original.height, channels: 4, data: px }, { level: 4, texts: original.texts }),
  );
}

async function upload(ctx: RouteContext, mask: boolean): Promise<Reply> {
  const form = parseForm(await ctx.body(), ctx.req.headers['content-type']);
  const image = form.get('image');
  const overwrite = form.text('overwrite');
  const typeField = form.get('type');
  if (typeField && typeField.kind !== 'text') throw new PyError('UnboundLocalError', "cannot access local variable 'type_dir'");
  const type = typeField ? typeField.value : 'input';
  const uploadDir = ctx.state.folders.byType(type);
  if (!uploadDir) throw new PyError('UnboundLocalError', "cannot access local variable 'type_dir' where it is not associated with a value");
  if (!image) return empty(400);
  if (image.kind !== 'file') {
    const isEmpty = image.kind === 'text' ? image.value === '' : image.value.length === 0;
    if (isEmpty) return empty(400);
    throw new PyError('AttributeError', `'${image.kind === 'text' ? 'str' : 'bytes'}' object has no attribute 'file'`);
  }
  let filename = image.filename;
  if (!filename) return empty(400);
  const subField = form.get('subfolder');
  if (subField && subField.kind !== 'text') throw new PyError('TypeError', 'expected str');
  const subfolder = subField ? subField.value : '';
  const folder = resolve(uploadDir, normalize(subfolder || '.'));
  let filepath = resolve(folder, filename);
  if (!isInside(uploadDir, filepath)) return empty(400);
  mkdirSync(folder, { recursive: true });
  const ext = extname(filename);
  const stem = filename.slice(0, filename.length - ext.length);
  let duplicate = false;
  if (!(overwrite === 'true' || overwrite === '1')) {
    for (let i = 1; existsSync(filepath); i++) {
      if (statSync(filepath).isFile() && sha256(readFileSync(filepath)) === sha256(image.data)) {
        duplicate = true;
        break;
      }
      filename = `${stem} (${i})${ext}`;
      filepath = join(folder, filename);
    }
  }
  if (!duplicate) {
    if (mask) mergeMask(ctx, form.text('original_ref'), image, filepath);
    else writeFileSync(filepath, image.data);
  }
  return json({ name: filename, subfolder, type });
}

/* ---------------------------------------------------------- info routes */

function systemStats(ctx: RouteContext): Reply {
  const ram = totalmem();
  const free = freemem();
  const argv = ['main.py', '--cpu', '--listen', '127.0.0.1', '--port', String(ctx.port)];
  if (ctx.previewMethod !== 'none') argv.push('--preview-method', ctx.previewMethod);
  return json({
    system: {
      os: process.platform,
      ram_total: ram,
      ram_free: free,
      comfyui_version: '0.8.0',
      required_frontend_version: '1.35.9',
      installed_templates_version: null,
      required_templates_version: '0.7.67',
      python_version: `3.11.2 (node-red-comfyui simulator on Node.js ${process.version})`,
      pytorch_version: 'simulated',
      embedded_python: false,
      argv,
    },
    devices: [{ name: 'cpu', type: 'cpu', index: null, vram_total: ram, vram_free: free, torch_vram_total: ram, torch_vram_free: free }],
  });
}

function folderPaths(ctx: RouteContext): PyDict {
  const models = join(ctx.state.folders.root, 'models');
  const out: PyDict = {};
  for (const name of MODEL_FOLDERS) out[name] = [join(models, name)];
  return out;
}

function internalFiles(ctx: RouteContext): Reply {
  const dir = ctx.state.folders.byType(ctx.params.type);
  if (!dir) return json({ error: 'Invalid directory type' }, 400);
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => ({ f, st: statSync(join(dir, f)) }))
    .filter(({ st }) => st.isFile())
    .sort((a, b) => b.st.mtimeMs - a.st.mtimeMs)
    .map(({ f }) => f);
  return json(files);
}

async function postSettings(ctx: RouteContext): Promise<Reply> {
  const data = await bodyJson(ctx);
  if (ctx.params.id !== undefined) setKey(ctx.state.settings, ctx.params.id, data);
  else if (isDict(data)) for (const [k, v] of Object.entries(data)) setKey(ctx.state.settings, k, v);
  else throw new PyError('AttributeError', "object has no attribute 'items'");
  return empty();
}

/* --------------------------------------------------------------- table */

export const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: '/',
    handler: () => {
      const r = text(INDEX_HTML, 200, 'text/html');
      r.headers['Cache-Control'] = 'no-cache';
      return r;
    },
  },
  { method: 'GET', pattern: '/index.html', handler: () => text(INDEX_HTML, 200, 'text/html') },
  {
    method: 'GET',
    pattern: '/ws',
    handler: (ctx) => text(`No WebSocket UPGRADE hdr: ${ctx.req.headers.upgrade ?? 'None'}\n Can "Upgrade" only to "WebSocket".`, 400),
  },
  { method: 'GET', pattern: '/embeddings', handler: () => json([]) },
  { method: 'GET', pattern: '/models', handler: () => json(MODEL_FOLDERS) },
  {
    method: 'GET',
    pattern: '/models/{folder}',
    handler: (ctx) =>
      MODEL_FOLDERS.includes(ctx.params.folder)
        ? json(ctx.params.folder === 'checkpoints' ? [...ctx.state.catalog.checkpoints] : [])
        : empty(404),
  },
  { method: 'GET', pattern: '/extensions', handler: () => json([]) },
  { method: 'POST', pattern: '/upload/image', handler: (ctx) => upload(ctx, false) },
  { method: 'POST', pattern: '/upload/mask', handler: (ctx) => upload(ctx, true) },
  { method: 'GET', pattern: '/view', handler: view },
  { method: 'GET', pattern: '/view_metadata/{folder_name}', handler: () => empty(404) },
  { method: 'GET', pattern: '/system_stats', handler: systemStats },
  { method: 'GET', pattern: '/features', handler: (ctx) => json(ctx.state.features()) },
  { method: 'GET', pattern: '/prompt', handler: (ctx) => json({ exec_info: { queue_remaining: ctx.state.queue.remaining() } }) },
  { method: 'POST', pattern: '/prompt', handler: postPrompt },
  { method: 'GET', pattern: '/object_info', handler: (ctx) => json(ctx.state.catalog.all()) },
  {
    method: 'GET',
    pattern: '/object_info/{node_class}',
    handler: (ctx) => {
      const cls = ctx.params.node_class;
      return json(ctx.state.catalog.has(cls) ? { [cls]: ctx.state.catalog.info(cls) } : {});
    },
  },
  { method: 'GET', pattern: '/history', handler: getHistory },
  { method: 'GET', pattern: '/history/{prompt_id}', handler: (ctx) => json(ctx.state.queue.historyItem(ctx.params.prompt_id)) },
  { method: 'POST', pattern: '/history', handler: postHistory },
  {
    method: 'GET',
    pattern: '/queue',
    handler: (ctx) => {
      const cur = ctx.state.queue.current();
      return json({ queue_running: cur.running, queue_pending: cur.pending });
    },
  },
  { method: 'POST', pattern: '/queue', handler: postQueue },
  { method: 'POST', pattern: '/interrupt', handler: postInterrupt },
  { method: 'POST', pattern: '/free', handler: postFree },
  { method: 'GET', pattern: '/settings', handler: (ctx) => json(ctx.state.settings) },
  {
    method: 'GET',
    pattern: '/settings/{id}',
    handler: (ctx) => json(hasKey(ctx.state.settings, ctx.params.id) ? ctx.state.settings[ctx.params.id]! : null),
  },
  { method: 'POST', pattern: '/settings', handler: postSettings },
  { method: 'POST', pattern: '/settings/{id}', handler: postSettings },
  { method: 'GET', pattern: '/users', handler: () => json({ storage: 'server', migrated: true }) },
  {
    method: 'GET',
    pattern: '/userdata',
    handler: (ctx) => (ctx.query.get('dir') ? text('Directory not found', 404) : text('Directory not provided', 400)),
  },
  {
    method: 'GET',
    pattern: '/experiment/models',
    handler: (ctx) => {
      const paths = folderPaths(ctx);
      return json(MODEL_FOLDERS.filter((n) => n !== 'configs' && n !== 'custom_nodes').map((name) => ({ name, folders: paths[name]! })));
    },
  },
  { method: 'GET', pattern: '/i18n', handler: () => json({}) },
  { method: 'GET', pattern: '/workflow_templates', handler: () => json({}) },
  { method: 'GET', pattern: '/global_subgraphs', handler: () => json({}) },
];

/** `/internal/*`: only without the /api prefix. */
export const INTERNAL_ROUTES: Route[] = [
  { method: 'GET', pattern: '/internal/logs', handler: (ctx) => json(ctx.state.logs.map((l) => `${l.t} - ${l.m}`).join('')) },
  {
    method: 'GET',
    pattern: '/internal/logs/raw',
    handler: (ctx) => json({ entries: ctx.state.logs.map((l) => ({ t: l.t, m: l.m })), size: { cols: 80, rows: 24 } }),
  },
  { method: 'PATCH', pattern: '/internal/logs/subscribe', handler: () => empty() },
  { method: 'GET', pattern: '/internal/folder_paths', handler: (ctx) => json(folderPaths(ctx)) },
  { method: 'GET', pattern: '/internal/files/{type}', handler: internalFiles },
];

/** `/api/jobs…` (also reachable as `/api/api/jobs…`, never as `/jobs`). */
export const JOBS_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: '/api/jobs',
    handler: (ctx) => {
      const r = listJobs(ctx.state.queue, ctx.query);
      return json(r.body, r.status);
    },
  },
  {
    method: 'GET',
    pattern: '/api/jobs/{job_id}',
    handler: (ctx) => {
      const job = getJob(ctx.state.queue, ctx.params.job_id);
      return job ? json(job) : json({ error: 'Job not found' }, 404);
    },
  },
];
