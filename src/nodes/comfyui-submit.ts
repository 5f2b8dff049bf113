/**
 * `comfyui-submit`: queues a workflow on ComfyUI and (by default) sends the msg on with the
 * prompt's outputs once it has finished.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ComfyError } from '../client/errors';
import type { JobProgress, JobResult } from '../client/jobs';
import { runningPart } from '../client/prompt-graph';
import type { ApiPrompt } from '../client/types';
import { convertUiWorkflow } from '../client/ui-convert';
import { applyOverrides, looksLikeWorkflow, randomizeSeeds, readWorkflow } from '../client/workflow';
import type { WorkflowSource } from '../client/workflow';
import type { SubmitDryRunPayload, SubmitQueuedPayload, SubmitResultPayload } from './messages';
import { asComfyError, checkSettable, failInput, finishInput, readInput } from './failure';
import { KeptJobs, keptJobsRegistry } from './kept-jobs';
import { evaluateOverrides, mergeTouched, overrideRows } from './overrides';
import type { ComfyTarget, TargetResult } from './comfy-target';
import { attachTarget, liveInstance, targetOf, usableTarget } from './server-api';
import type { TargetConfig, TargetNode } from './server-api';
import { queuePositionStatus } from './queue-position-status';
import { statusLabel, Throttle } from './status';
import { submitCheck } from './submit-check';
import { choiceOf, describeValue, isUnset } from './msg-input';
import type { Given } from './msg-input';
import { scopeFor, scopeSettingsOf } from './submit-scope';
import { readSetting, settingOf } from './typed-setting';
import { upgradeConfig } from './config-version';

interface SubmitConfig extends NodeDef, TargetConfig {
  workflow: string;
  mode: 'wait' | 'queued';
  randomizeSeeds: boolean;
  /** Sampler previews to ask ComfyUI for, or a msg/flow/global/env/JSONata source (previewsType); 'none' asks nothing (the server's --preview-method applies). */
  previews?: string;
  /** Seconds until an unfinished prompt fails with TIMEOUT; 0 or empty: no limit. */
  timeout?: string | number;
  /** Seconds a prompt may wait in ComfyUI's queue before it fails with TIMEOUT; 0 or empty: no limit. */
  queueTimeout?: string | number;
  /** On a timeout, interrupt (running) or dequeue (pending) the prompt instead of leaving it. */
  cancelOnTimeout?: boolean;
  /** The editor's "Overrides" rows `{node, input, value, valueType}`, evaluated for each msg. */
  overrides?: unknown;
  /** Check the prompt against the server's node definitions before POST /prompt; on unless unticked. */
  validate?: boolean;
  /** Queue nothing: send the final prompt and its problems on (msg.dryRun === true does the same for one msg). */
  dryRun?: boolean;
  /** "Run only", "Bypass", "Mute": node ids, titles or classes (TypedInputs targetsType, bypassType, muteType); see submit-scope.ts. */
  targets?: string;
  bypass?: string;
  mute?: string;
  /** When the node is removed while its prompts run: leave them running on ComfyUI (default) or cancel them. */
  onStop?: 'leave' | 'cancel';
  /** With a pool: prompts with the same key go to the same member (TypedInput affinityType; empty: none). */
  affinity?: string;
  /** With a pool: how many times a prompt lost while running is submitted again on another member. */
  retries?: string | number;
}

const PREVIEW_METHODS = ['none', 'auto', 'latent2rgb', 'taesd'] as const;

type SubmitMsg = NodeMessageInFlow & { inputs?: unknown; prompt_id?: string; dryRun?: unknown; recovered?: boolean; server?: string };

export = function (RED: NodeAPI): void {
  // One per runtime: during a redeploy the old instance of a node still follows its prompts while the new one reads the store.
  const registry = keptJobsRegistry();

  function ComfySubmitNode(this: Node, config: SubmitConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    const ownWorkflow = typeof config.workflow === 'string' ? config.workflow.trim() : '';
    const wait = config.mode !== 'queued';
    const rows = overrideRows(config.overrides);
    const previewsSetting = settingOf(config, 'previews', { label: 'Previews', fixed: 'previews' });
    const affinitySetting = settingOf(config, 'affinity', { label: 'Affinity' });
    const retries = Math.min(Math.max(Math.trunc(Number(config.retries)) || 0, 0), MAX_RETRIES);
    const check = submitCheck(node);
    const scopeSettings = scopeSettingsOf(config);
    const progressStatus = new Throttle<JobProgress>(250, (p) => {
      const steps = p.max ? ` ${p.value ?? 0}/${p.max}` : '';
      const label = statusLabel(p.title ?? p.node, usableTarget(server)?.textLimit ?? Infinity);
      liveInstance(RED, node).status({ fill: 'blue', shape: 'dot', text: `${p.nodeIndex}/${p.nodeCount} ${label}${steps}` });
    });
    const kept = new KeptJobs(RED, node, server, registry, {
      timeoutMs: secondsToMs(config.timeout),
      onResult: (msg, result, record) =>
        deliver(msg as SubmitMsg, result, {
          number: record.number,
          node_errors: record.nodeErrors,
          overrides: record.overrides as SubmitResultPayload['overrides'],
        }),
      onProgress: (p) => progressStatus.push(p),
      onQueuePosition: (p) => liveInstance(RED, node).status(queuePositionStatus(p)),
    });

    /** The result msg, from the node deployed under this id now (it may have been redeployed while the prompt ran). */
    function deliver(msg: SubmitMsg, result: TargetResult, payload: Omit<SubmitResultPayload, keyof JobResult>, send?: (msg: SubmitMsg) => void): void {
      const full: SubmitResultPayload = { ...result, ...payload };
      msg.payload = full;
      if (result.server !== undefined) msg.server = result.server;
      progressStatus.cancel();
      const target = liveInstance(RED, node);
      target.status({ fill: 'green', shape: 'dot', text: result.cached ? 'comfyui-submit.status.cached' : 'comfyui-submit.status.done' });
      if (target === node && send) send(msg);
      else target.send(msg);
    }

    async function handle(msg: SubmitMsg, send: (msg: SubmitMsg) => void, job: { promptId?: string; kept: boolean }): Promise<void> {
      const client = targetOf(server);
      const { prompt, previews, targets, overrides, dryRun, affinity } = await readInput(async () => {
        let workflow = await promptOf(chooseWorkflow(msg.payload, ownWorkflow), client);
        if (config.randomizeSeeds) workflow = randomizeSeeds(workflow);
        // The node's override rows first, then msg.inputs, which wins where both set an input.
        const fromRows = applyOverrides(workflow, await evaluateOverrides(RED, node, rows, msg), "The node's Overrides rows");
        const fromMsg = applyOverrides(fromRows.prompt, msg.inputs);
        const scoped = await scopeFor(RED, node, scopeSettings, msg, fromMsg.prompt, () => client.definitions());
        checkSettable(msg, ['prompt_id', 'payload']);
        const previews = choiceOf(await readSetting(RED, node, previewsSetting, msg), PREVIEW_METHODS, 'none');
        const dryRun = config.dryRun === true || msg.dryRun === true;
        const affinity = client.pool ? affinityOf(await readSetting(RED, node, affinitySetting, msg)) : undefined;
        return { ...scoped, previews, overrides: mergeTouched(fromRows.touched, fromMsg.touched), dryRun, affinity };
      });

      if (dryRun) {
        const payload: SubmitDryRunPayload = { prompt, problems: await check.problems(client, prompt, targets) };
        msg.payload = payload;
        const clean = payload.problems.length === 0;
        node.status({ fill: clean ? 'green' : 'yellow', shape: 'ring', text: clean ? 'comfyui-submit.status.dry-run' : 'comfyui-submit.status.dry-run-problems' });
        send(msg);
        return;
      }
      if (config.validate !== false) await check.beforeSubmit(client, prompt, targets);
      node.status({ fill: 'blue', shape: 'ring', text: 'comfyui-submit.status.sending' });
      // A prompt's events may overtake ComfyUI's answer to POST /prompt: once it runs, "queued" would be a step back.
      let started = false;
      const submittedAt = Date.now();
      const submission = await client.submit(prompt, {
        wait,
        totalTimeoutMs: secondsToMs(config.timeout),
        queueTimeoutMs: secondsToMs(config.queueTimeout),
        cancelOnTimeout: config.cancelOnTimeout === true,
        targets,
        ...(previews === 'none' ? {} : { extraData: { preview_method: previews } }),
        ...(affinity === undefined ? {} : { affinity }),
        retries,
        callbacks: {
          onRunning: () => {
            started = true;
            node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-submit.status.running' });
          },
          onProgress: (p) => progressStatus.push(p),
          onQueuePosition: (p) => {
            if (!started) liveInstance(RED, node).status(queuePositionStatus(p));
          },
        },
      });
      // client.submit resolves once ComfyUI accepted the prompt (its answer to POST /prompt).
      if (!started) node.status({ fill: 'blue', shape: 'ring', text: 'comfyui-submit.status.queued' });
      if (submission.droppedNodes.length > 0) {
        node.warn(
          `ComfyUI accepted prompt ${submission.promptId} but dropped outputs that failed validation: ` +
            submission.droppedNodes.map((p) => `#${p.id} ${p.title ?? p.class_type}: ${p.message} (${p.details})`).join('; '),
        );
      }
      msg.prompt_id = submission.promptId;
      if (submission.server !== undefined) msg.server = submission.server;
      if (!submission.result) {
        const payload: SubmitQueuedPayload = {
          prompt_id: submission.promptId,
          number: submission.number,
          node_errors: submission.nodeErrors,
          overrides,
        };
        msg.payload = payload;
        send(msg);
        return;
      }
      job.promptId = submission.promptId;
      kept.track(submission.promptId);
      job.kept = await kept.keep(
        {
          promptId: submission.promptId,
          node: node.id,
          server: server!.id,
          ...(submission.server === undefined ? {} : { member: submission.server }),
          prompt: runningPart(prompt, targets),
          number: submission.number,
          nodeErrors: submission.nodeErrors,
          overrides,
          submittedAt,
          acceptedAt: Date.now(),
        },
        msg,
      );
      const result = await submission.result;
      // The node may have been redeployed while the prompt ran: the result goes to the node now
      // deployed under this id (the job lives with the config node, so nothing was lost).
      deliver(msg, result, { number: submission.number, node_errors: submission.nodeErrors, overrides }, send);
      // Node-RED hands the msg on in an immediate queued by send(): this one runs right after that, in the
      // same turn of the event loop (no I/O, no close in between), so the next node's work does not wait for it.
      setImmediate(() => kept.forget(submission.promptId));
    }

    node.on('input', (msg: SubmitMsg, send: (msg: SubmitMsg) => void, done: (err?: Error) => void) => {
      const job: { promptId?: string; kept: boolean } = { kept: false };
      handle(msg, send, job).then(
        () => finishInput(node, done),
        (err: unknown) => {
          progressStatus.cancel();
          if (kept.handOver(err, job.promptId, job.kept)) return finishInput(node, done);
          failInput(node, err, done, 'comfyui-submit.status.error', liveInstance(RED, node), msg);
          if (job.promptId !== undefined) kept.forget(job.promptId);
        },
      );
    });

    kept.recover().catch((err: unknown) => node.warn(`The job store could not be read: ${asComfyError(err, 'INTERNAL').message}`));

    node.on('close', (removed: boolean, done: () => void) => {
      progressStatus.stop();
      const leave = (): void => (server ? server.deregister(node, removed, done) : done());
      kept.close(removed, config.onStop === 'cancel').then(leave, leave);
    });
  }

  /**
   * msg.payload wins when it is a workflow; otherwise the node's own workflow is used. With no
   * workflow in the node, msg.payload must be one, and a wrong one gets its specific error.
   */
  function chooseWorkflow(payload: unknown, ownWorkflow: string): WorkflowSource {
    if (ownWorkflow === '') {
      if (payload === undefined || payload === null || payload === '' || typeof payload === 'number' || typeof payload === 'boolean') {
        throw new ComfyError('BAD_WORKFLOW', 'No workflow: paste a workflow into the node or send one in msg.payload');
      }
      return readWorkflow(payload);
    }
    return readWorkflow(looksLikeWorkflow(payload) ? payload : ownWorkflow);
  }

  /** The API prompt to queue: a UI-format workflow is converted with the server's node definitions (asked once per connection). */
  async function promptOf(source: WorkflowSource, client: ComfyTarget): Promise<ApiPrompt> {
    return source.format === 'api' ? source.prompt : convertUiWorkflow(source.workflow, await client.definitions());
  }

  RED.nodes.registerType('comfyui-submit', ComfySubmitNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

/** At most this many resubmissions of a prompt lost while running (the editor offers 0 to 10). */
const MAX_RETRIES = 10;
/** Longest affinity key: keys are remembered (up to a bound) by the pool. */
const MAX_AFFINITY_CHARS = 200;

/** The affinity key for this msg: text or a number; unset or empty means none. */
function affinityOf(given: Given): string | undefined {
  if (isUnset(given.value)) return undefined;
  const value = given.value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw new ComfyError('BAD_INPUT', `${given.from} must be text or a number (the affinity key); got ${describeValue(value)}`);
  const key = value.trim();
  if (key.length > MAX_AFFINITY_CHARS) throw new ComfyError('BAD_INPUT', `${given.from} is longer than ${MAX_AFFINITY_CHARS} characters`);
  return key === '' ? undefined : key;
}

function secondsToMs(value: string | number | undefined): number | undefined {
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
