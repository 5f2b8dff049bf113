/**
 * Which input each entry of a node's saved `widgets_values` belongs to. The frontend lays widgets out
 * from the class definition: one per widget input, in input order (required, then optional), plus
 * widgets that are no input but still take a place in `widgets_values` (the "control after generate"
 * combo after a seed, the upload button of a file loader). Converting a widget to a socket keeps its
 * place, so the places depend on the definition only, never on the node's sockets.
 */
import type { Json } from '../shape';
import type { InputDefinition, NodeDefinition } from '../node-definitions';

/** One place in `widgets_values`: an input's value, or a frontend-only widget whose value is not sent. */
export type WidgetPlace = { input: InputDefinition } | { input?: undefined; frontendOnly: string };

/**
 * Input flags that make the frontend add an upload button (one stored value: "image", "upload", …)
 * after the required inputs: uploadImage.ts (image, animated image, video) and uploadAudio.ts (audio).
 */
const UPLOAD_FLAGS = ['image_upload', 'animated_image_upload', 'video_upload', 'audio_upload'] as const;

/** Seed inputs get a control widget even when their spec does not ask for one (the frontend's INT widget). */
const SEED_NAMES: ReadonlySet<string> = new Set(['seed', 'noise_seed']);

const layoutCache = new WeakMap<NodeDefinition, readonly WidgetPlace[]>();

/** The places of `widgets_values` for a node of this class, in order. */
export function widgetLayout(definition: NodeDefinition): readonly WidgetPlace[] {
  const cached = layoutCache.get(definition);
  if (cached) return cached;
  const places: WidgetPlace[] = [];
  let uploadAdded = false;
  const addUpload = (): void => {
    if (uploadAdded || !definition.inputs.some(hasUploadFlag)) return;
    uploadAdded = true;
    places.push({ frontendOnly: 'upload' });
  };
  for (const input of definition.inputs) {
    // The upload input is appended to the required inputs, so its button follows the last of them.
    if (input.group !== 'required') addUpload();
    if (!input.widget) continue;
    places.push({ input });
    if (hasValueControl(input)) places.push({ frontendOnly: 'control_after_generate' });
  }
  addUpload();
  layoutCache.set(definition, places);
  return places;
}

/** INT and FLOAT widgets (and combos) with `control_after_generate`, and INT seeds unless the spec says false. */
function hasValueControl(input: InputDefinition): boolean {
  const control = input.config.control_after_generate;
  if (control !== undefined && control !== null) return control !== false;
  return input.type === 'INT' && SEED_NAMES.has(input.name);
}

function hasUploadFlag(input: InputDefinition): boolean {
  return input.group === 'required' && UPLOAD_FLAGS.some((flag) => input.config[flag] === true);
}

/**
 * The value each widget input of a node has, by input name: from `widgets_values` (a list by place,
 * or an object by widget name), else the definition's default (a widget added to the class after the
 * file was saved). Places past the layout (previews some nodes store) are ignored.
 */
export function widgetValues(definition: NodeDefinition, saved: Json[] | Record<string, Json> | undefined): Map<string, Json> {
  const values = new Map<string, Json>();
  const layout = widgetLayout(definition);
  for (let place = 0; place < layout.length; place += 1) {
    const { input } = layout[place];
    if (!input) continue;
    const value = savedValue(saved, place, input.name);
    values.set(input.name, value === undefined ? defaultValue(input) : value);
  }
  return values;
}

function savedValue(saved: Json[] | Record<string, Json> | undefined, place: number, name: string): Json | undefined {
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
