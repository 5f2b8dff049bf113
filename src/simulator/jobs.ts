/**
 * GET /api/jobs and /api/jobs/{id} (comfy_execution/jobs.py, Dec 2025): a read-only merged view
 * of running, pending and history items, shaped as in h_queue.json and i_history.json
 * (null fields omitted). The 400 texts for bad query values are not in the recordings and are
 * worded after the handler's checks.
 */
import { PyDict, PyValue, isDict } from './pyjson';
import { HistoryEntry, PromptQueue } from './queue';

const ALL = ['pending', 'in_progress', 'completed', 'failed'];
const PREVIEWABLE = new Set(['images', 'video', 'audio']);
const THREE_D = ['.obj', '.fbx', '.gltf', '.glb'];

function prune(d: Record<string, PyValue | undefined>): PyDict {
  const out: PyDict = {};
  for (const [k, v] of Object.entries(d)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

function metadata(extra: PyValue): { createTime: PyValue | undefined; workflowId: PyValue | undefined } {
  const e = isDict(extra) ? extra : {};
  const png = isDict(e.extra_pnginfo) ? e.extra_pnginfo : {};
  const wf = isDict(png.workflow) ? png.workflow : {};
  return { createTime: e.create_time, workflowId: wf.id };
}

function queueJob(item: PyValue[], status: string): PyDict {
  const { createTime, workflowId } = metadata(item[3]);
  return prune({ id: item[1], status, priority: item[0], create_time: createTime, outputs_count: 0, workflow_id: workflowId });
}

function isPreviewable(mediaType: string, item: PyDict): boolean {
  if (PREVIEWABLE.has(mediaType)) return true;
  const fmt = typeof item.format === 'string' ? item.format : '';
  if (fmt.startsWith('video/') || fmt.startsWith('audio/')) return true;
  const name = typeof item.filename === 'string' ? item.filename.toLowerCase() : '';
  return THREE_D.some((ext) => name.endsWith(ext));
}

function outputsSummary(outputs: PyDict): [number, PyDict | undefined] {
  let count = 0;
  let preview: PyDict | undefined;
  let fallback: PyDict | undefined;
  for (const [nodeId, nodeOutputs] of Object.entries(outputs)) {
    if (!isDict(nodeOutputs)) continue;
    for (const [mediaType, items] of Object.entries(nodeOutputs)) {
      if (mediaType === 'animated' || !Array.isArray(items)) continue;
      for (const item of items) {
        if (!isDict(item)) continue;
        count++;
        if (preview === undefined && isPreviewable(mediaType, item)) {
          const enriched = { ...item, nodeId, mediaType };
          if (item.type === 'output') preview = enriched;
          else if (fallback === undefined) fallback = enriched;
        }
      }
    }
  }
  return [count, preview ?? fallback];
}

function historyJob(id: string, h: HistoryEntry, full: boolean): PyDict {
  const [priority, , prompt, extra] = h.prompt;
  const { createTime, workflowId } = metadata(extra);
  const status = h.status?.status_str === 'error' ? 'failed' : 'completed';
  const [count, preview] = outputsSummary(h.outputs);
  let start: PyValue | undefined;
  let end: PyValue | undefined;
  let error: PyValue | undefined;
  for (const [event, data] of h.status?.messages ?? []) {
    if (event === 'execution_start') start = data.timestamp;
    else if (event === 'execution_success' || event === 'execution_error' || event === 'execution_interrupted') {
      end = data.timestamp;
      if (event === 'execution_error') error = data;
    }
  }
  const job = prune({
    id,
    status,
    priority,
    create_time: createTime,
    execution_start_time: start,
    execution_end_time: end,
    execution_error: error,
    outputs_count: count,
    preview_output: preview,
    workflow_id: workflowId,
  });
  if (full) {
    job.outputs = h.outputs;
    job.execution_status = h.status;
    job.workflow = { prompt: prompt!, extra_data: extra! };
  }
  return job;
}

export function getJob(queue: PromptQueue, id: string): PyDict | undefined {
  const h = queue.history.get(id);
  if (h) return historyJob(id, h, true);
  const cur = queue.current();
  for (const item of cur.running) if (item[1] === id) return queueJob(item, 'in_progress');
  for (const item of cur.pending) if (item[1] === id) return queueJob(item, 'pending');
  return undefined;
}

/** Returns the response body, or `{error}` with a 400. */
export function listJobs(queue: PromptQueue, q: URLSearchParams): { status: number; body: PyDict } {
  const bad = (error: string): { status: number; body: PyDict } => ({ status: 400, body: { error } });
  let statuses = ALL;
  const statusParam = q.get('status');
  if (statusParam) {
    statuses = statusParam
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s);
    const invalid = statuses.filter((s) => !ALL.includes(s));
    if (invalid.length) return bad(`Invalid status filter(s): ${invalid.join(', ')}. Valid statuses: ${ALL.join(', ')}`);
  }
  const sortBy = q.get('sort_by') ?? 'created_at';
  if (!['created_at', 'execution_duration'].includes(sortBy)) return bad("sort_by must be 'created_at' or 'execution_duration'");
  const sortOrder = q.get('sort_order') ?? 'desc';
  if (!['asc', 'desc'].includes(sortOrder)) return bad("sort_order must be 'asc' or 'desc'");
  let limit: number | null = null;
  if (q.has('limit')) {
    const v = q.get('limit')!.trim();
    if (!/^[+-]?\d+$/.test(v)) return bad('limit must be an integer');
    limit = Number(v);
    if (limit <= 0) return bad('limit must be a positive integer');
  }
  let offset = 0;
  if (q.has('offset')) {
    const v = q.get('offset')!.trim();
    if (!/^[+-]?\d+$/.test(v)) return bad('offset must be an integer');
    offset = Math.max(0, Number(v));
  }
  const workflowId = q.get('workflow_id');

  const cur = queue.current();
  let jobs: PyDict[] = [];
  if (statuses.includes('in_progress')) for (const item of cur.running) jobs.push(queueJob(item, 'in_progress'));
  if (statuses.includes('pending')) for (const item of cur.pending) jobs.push(queueJob(item, 'pending'));
  const completed = statuses.includes('completed');
  const failed = statuses.includes('failed');
  if (completed || failed) {
    for (const [id, h] of queue.history) {
      const isFailed = h.status?.status_str === 'error';
      if ((isFailed && failed) || (!isFailed && completed)) jobs.push(historyJob(id, h, false));
    }
  }
  if (workflowId) jobs = jobs.filter((j) => j.workflow_id === workflowId);
  const key = (j: PyDict): number => {
    if (sortBy === 'execution_duration') {
      const s = Number(j.execution_start_time ?? 0);
      const e = Number(j.execution_end_time ?? 0);
      return s && e ? e - s : 0;
    }
    return Number(j.create_time ?? 0);
  };
  // Python's sorted(reverse=True) is stable too: equal keys keep their order in both directions
  jobs = jobs
    .map((j, i) => [j, i] as const)
    .sort(([a], [b]) => (sortOrder === 'desc' ? key(b) - key(a) : key(a) - key(b)))
    .map(([j]) => j);
  const total = jobs.length;
  if (offset > 0) jobs = jobs.slice(offset);
  if (limit !== null) jobs = jobs.slice(0, limit);
  return { status: 200, body: { jobs, pagination: { offset, limit, total, has_more: offset + jobs.length < total } } };
}
