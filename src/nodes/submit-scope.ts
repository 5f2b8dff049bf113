/**
 * Which part of a workflow one msg runs: the submit node's "Run only", "Bypass" and "Mute" settings
 * (TypedInputs; typed-in values give way to msg.targets, msg.bypass and msg.mute). Each names nodes
 * by id, title or class (client/node-address.ts). The server's node definitions are asked only when
 * they are needed: to check that targets are output nodes, and to rewire around bypassed nodes.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { ComfyError } from '../client/errors';
import { findAllNodes, nodeKeysOf } from '../client/node-address';
import type { NodeDefinition } from '../client/node-definitions';
import { leaveOut } from '../client/prompt-bypass';
import { resolveTargets } from '../client/prompt-targets';
import type { ApiPrompt, NodeId } from '../client/types';
import { isEmptyLiteral, readSetting, settingOf } from './typed-setting';
import type { TypedSetting } from './typed-setting';

export interface ScopeSettings {
  targets: TypedSetting;
  bypass: TypedSetting;
  mute: TypedSetting;
  /** All three typed in and empty: only a msg's own msg.targets, msg.bypass or msg.mute can scope it. */
  empty: boolean;
}

/** Node names as a msg gave them, with words saying where they came from (for errors). */
interface Named {
  keys: string[];
  from: string;
}

export interface Scope {
  targets: Named;
  bypass: Named;
  mute: Named;
}

export function scopeSettingsOf(config: object): ScopeSettings {
  const targets = settingOf(config, 'targets', { label: 'Run only', fixed: 'targets' });
  const bypass = settingOf(config, 'bypass', { label: 'Bypass', fixed: 'bypass' });
  const mute = settingOf(config, 'mute', { label: 'Mute', fixed: 'mute' });
  return { targets, bypass, mute, empty: [targets, bypass, mute].every(isEmptyLiteral) };
}

/**
 * The msg's prompt without what it bypasses or mutes, and the outputs it runs (readScope, then
 * applyScope). A msg that names no scope of its own, on a node whose settings name none (most
 * msgs), is answered without reading or walking anything: this runs before every POST /prompt.
 */
export async function scopeFor(
  RED: NodeAPI,
  node: Node,
  settings: ScopeSettings,
  msg: NodeMessage,
  prompt: ApiPrompt,
  definitions: () => Promise<ReadonlyMap<string, NodeDefinition>>,
): Promise<{ prompt: ApiPrompt; targets: NodeId[] | undefined }> {
  if (settings.empty && !namesScope(msg)) return { prompt, targets: undefined };
  return applyScope(prompt, await readScope(RED, node, settings, msg), definitions);
}

/** Whether the msg has any of the properties that scope it ('in' calls no getter; readScope reads them with its checks). */
function namesScope(msg: NodeMessage): boolean {
  try {
    return 'targets' in msg || 'bypass' in msg || 'mute' in msg;
  } catch {
    return true; // a Proxy's trap: readScope says what is wrong
  }
}

/** The node names this msg gives; an unset value names none. */
async function readScope(RED: NodeAPI, node: Node, settings: ScopeSettings, msg: NodeMessage): Promise<Scope> {
  const read = async (setting: TypedSetting): Promise<Named> => {
    const { value, from } = await readSetting(RED, node, setting, msg);
    return { keys: value === undefined || value === null ? [] : nodeKeysOf(value, from), from };
  };
  return { targets: await read(settings.targets), bypass: await read(settings.bypass), mute: await read(settings.mute) };
}

/** The prompt without its bypassed and muted nodes, and the output nodes to run (undefined: all of them). */
async function applyScope(
  prompt: ApiPrompt,
  scope: Scope,
  definitions: () => Promise<ReadonlyMap<string, NodeDefinition>>,
): Promise<{ prompt: ApiPrompt; targets: NodeId[] | undefined }> {
  const bypass = findAllNodes(prompt, scope.bypass.keys, scope.bypass.from);
  const mute = findAllNodes(prompt, scope.mute.keys, scope.mute.from);
  const needed = bypass.length > 0 || scope.targets.keys.length > 0;
  const known = needed ? await definitions() : new Map<string, NodeDefinition>();
  const targets = resolveTargets(prompt, scope.targets.keys, known, scope.targets.from);
  const dropped = targets?.filter((id) => bypass.includes(id) || mute.includes(id)) ?? [];
  if (dropped.length > 0) {
    throw new ComfyError('BAD_INPUT', `${scope.targets.from} asks to run ${dropped.map((id) => `#${id}`).join(', ')}, which this msg also bypasses or mutes`);
  }
  return { prompt: leaveOut(prompt, { bypass, mute }, known), targets };
}
