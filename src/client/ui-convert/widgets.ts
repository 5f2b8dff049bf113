/**
 * Which input each entry of a node's saved `widgets_values` belongs to. The frontend lays widgets out
 * from the class definition: one per widget input, in input order (required, then optional), plus
 * widgets that are no input but still take a place in `widgets_values` (the "control after generate"
 * combo after a seed, the upload button of a file loader). Converting a widget to a socket keeps its
 * place, so the places depend on the definition (and the choice saved in a dynamic combo), never on
 * the node's sockets.
 */
import type { InputDefinition, NodeDefinition } from '../node-definitions';
import { isRecord } from '../shape';
import type { Json } from '../shape';

export type SavedWidgets = Json[] | Record<string, Json>;

/** One place in `widgets_values`: an input's value (sent as `name`), or a frontend-only widget (`input` absent) whose value is not sent. */
export interface WidgetPlace {
  name: string;
  input?: InputDefinition;
}

/**
 * Input flags that make the frontend add an upload button (one stored value: "image", "upload", …
 * by era): uploadImage.ts (image, animated image, video) and uploadAudio.ts (audio) append an
 * `upload` input to the class's required inputs.
 */
const UPLOAD_FLAGS = ['image_upload', 'animated_image_upload', 'video_upload', 'audio_upload'] as const;

/**
 * Classes to which uploadAudio.ts appends an audio player (`audioUI`) to the required inputs, before
 * the upload button. It is never saved, but keeps its place (null in `widgets_values`).
 */
const AUDIO_PLAYER_CLASSES: ReadonlySet<string> = new Set([
  'LoadAudio',
  'SaveAudio',
  'PreviewAudio',
  'SaveAudioMP3',
  'SaveAudioOpus',
  'SaveAudioAdvanced',
]);

/** Seed inputs get a control widget even when their spec does not ask for one (the frontend's INT widget). */
const SEED_NAMES: ReadonlySet<string> = new Set(['seed', 'noise_seed']);

/**
 * The places of `widgets_values` for a node of this class, in order. A dynamic combo is followed by
 * the widgets of the choice saved in it, so the layout depends on the saved values too.
 */
export function widgetLayout(definition: NodeDefinition, saved: SavedWidgets | undefined): WidgetPlace[] {
  const places: WidgetPlace[] = [];
  // Depth is bounded by the definition (node-definitions.ts reads at most 8 nested dynamic combos), not by the file.
  const walk = (inputs: readonly InputDefinition[], prefix: string): void => {
    for (const input of inputs) {
      if (!input.widget) continue;
      const name = `${prefix}${input.name}`;
      places.push({ name, input });
      if (input.dynamicOptions) {
        const chosen = savedValue(saved, places.length - 1, name) ?? defaultValue(input);
        const option = input.dynamicOptions.find((entry) => entry.key === chosen);
        if (option) walk(option.inputs, `${name}.`);
        continue;
      }
      // A remote combo is followed by its auto-refresh toggle, and by a refresh button when it asks for one
      // (useRemoteWidget). The button's "refresh" is no input of the class, so it is not sent.
      if (isRecord(input.config.remote)) {
        places.push({ name: `${name} (auto refresh)` });
        if (input.config.remote.refresh_button === true) places.push({ name: `${name} (refresh)` });
      }
      // The audio recorder's record button (uploadAudio.ts).
      if (input.type === 'AUDIO_RECORD') places.push({ name: `${name} (record)` });
      if (hasValueControl(input)) {
        places.push({ name: `${name} (control after generate)` });
        // A combo's control is followed by its filter text (addValueControlWidgets).
        if (input.type === 'COMBO' && input.config.multi_select !== true) places.push({ name: `${name} (control filter)` });
      }
    }
  };
  walk(
    definition.inputs.filter((input) => input.group === 'required'),
    '',
  );
  // What the frontend's extensions append to the required inputs, in the order they register.
  if (AUDIO_PLAYER_CLASSES.has(definition.name)) places.push({ name: 'audioUI' });
  if (definition.inputs.some(hasUploadFlag)) places.push({ name: 'upload' });
  walk(
    definition.inputs.filter((input) => input.group !== 'required'),
    '',
  );
  return places;
}

/** INT widgets named seed / noise_seed unless the spec says false, and any widget whose spec asks for `control_after_generate`. */
function hasValueControl(input: InputDefinition): boolean {
  const control = input.config.control_after_generate;
  if (control !== undefined && control !== null) return control !== false;
  return input.type === 'INT' && SEED_NAMES.has(input.name);
}

function hasUploadFlag(input: InputDefinition): boolean {
  return input.group === 'required' && UPLOAD_FLAGS.some((flag) => input.config[flag] === true);
}

/** A widget input's value and its definition (a dynamic combo's inputs are not among the class's own). */
export interface WidgetValue {
  value: Json;
  input: InputDefinition;
}

/**
 * The value each widget input of a node sends, by input name: from `widgets_values` (a list by place,
 * or an object by widget name), else the definition's default (a widget added to the class after the
 * file was saved). Places past the layout (previews some nodes store) are ignored.
 */
export function widgetValues(definition: NodeDefinition, saved: SavedWidgets | undefined): Map<string, WidgetValue> {
  const values = new Map<string, WidgetValue>();
  const current = Array.isArray(saved) ? withoutForceInputPlaces(definition, saved) : saved;
  const layout = widgetLayout(definition, current);
  for (let place = 0; place < layout.length; place += 1) {
    const { name, input } = layout[place];
    if (!input) continue;
    const value = savedValue(current, place, name);
    values.set(name, { value: value === undefined ? defaultValue(input) : value, input });
  }
  return values;
}

/**
 * Files saved before frontend 1.16 kept a place for every forceInput input (and its control); the
 * frontend drops those places when the count matches that old layout (migrateWidgetsValues).
 */
function withoutForceInputPlaces(definition: NodeDefinition, saved: Json[]): Json[] {
  const forced: boolean[] = [];
  for (const input of definition.inputs) {
    const forceInput = input.config.forceInput === true;
    if (!input.widget && !forceInput) continue;
    forced.push(forceInput);
    if (input.config.control_after_generate) forced.push(false);
  }
  if (!forced.includes(true) || forced.length !== saved.length) return saved;
  return saved.filter((_, index) => !forced[index]);
}

function savedValue(saved: SavedWidgets | undefined, place: number, name: string): Json | undefined {
  if (saved === undefined) return undefined;
  if (Array.isArray(saved)) return place < saved.length ? saved[place] : undefined;
  return Object.prototype.hasOwnProperty.call(saved, name) ? saved[name] : undefined;
}

/** The value a freshly created widget holds (the frontend's widget constructors). */
export function defaultValue(input: InputDefinition): Json {
  const given = input.config.default;
  if (given !== undefined) return given;
  switch (input.type) {
    case 'INT':
    case 'FLOAT':
      return 0;
    case 'BOOLEAN':
      return false;
    case 'STRING':
      return '';
    default:
      return input.choices && input.choices.length > 0 ? input.choices[0] : null;
  }
}
