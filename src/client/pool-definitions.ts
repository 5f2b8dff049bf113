/**
 * The node definitions a pool checks and converts prompts with: what any member has. Local
 * validation must not refuse a model file that only one member holds (routing then picks that
 * member), so each class is the first member's definition with every COMBO input's choices joined
 * over the members that have the class. Pure: no I/O.
 */
import type { InputDefinition, NodeDefinition } from './node-definitions';
import type { Json } from './shape';

export function mergeDefinitions(each: ReadonlyArray<ReadonlyMap<string, NodeDefinition>>): Map<string, NodeDefinition> {
  const merged = new Map<string, NodeDefinition>();
  for (const definitions of each) {
    for (const [name, definition] of definitions) {
      const known = merged.get(name);
      merged.set(name, known ? joinChoices(known, definition) : definition);
    }
  }
  return merged;
}

function joinChoices(first: NodeDefinition, other: NodeDefinition): NodeDefinition {
  const joinInputs = (inputs: InputDefinition[]): InputDefinition[] =>
    inputs.map((input) => {
      const same = other.inputs.find((candidate) => candidate.name === input.name && candidate.type === input.type);
      if (!input.choices || !same?.choices) return input;
      return { ...input, choices: union(input.choices, same.choices) };
    });
  return { ...first, inputs: joinInputs(first.inputs) };
}

function union(a: readonly Json[], b: readonly Json[]): Json[] {
  const seen = new Set(a.map((value) => JSON.stringify(value)));
  const joined = [...a];
  for (const value of b) {
    const key = JSON.stringify(value);
    if (!seen.has(key)) {
      seen.add(key);
      joined.push(value);
    }
  }
  return joined;
}
