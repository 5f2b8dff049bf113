/**
 * What `npm start` runs: Node-RED with this package and an example deployed (the "text to image"
 * one unless another is asked for), pointed at COMFYUI_URL, or at the bundled simulator when that is unset.
 * The examples' shared server configuration reads its URL from ${COMFYUI_URL}, so edits a person
 * makes to the flow survive restarts while the simulator's port may change.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { startSimulator } from '../simulator';
import type { Simulator } from '../simulator';

export interface AppOptions {
  /** Editor port; 0 picks a free one. */
  port: number;
  userDir: string;
  /** A real ComfyUI; when absent the simulator is started on 127.0.0.1. */
  comfyuiUrl?: string;
  /** Bind address of the editor. */
  host?: string;
  /** Extra Node-RED settings (e.g. adminAuth), merged over ours. */
  settings?: Record<string, unknown>;
  /** The flows to start with when the userDir has none (default: the example). */
  flows?: Record<string, unknown>[];
  /** The example to deploy: a file name of examples/ without `.json` (default: text-to-image). */
  example?: string;
  /** Credentials of those flows, by node id (stored unencrypted in the userDir, as credentialSecret is off). */
  credentials?: Record<string, Record<string, string>>;
}

export interface App {
  editorUrl: string;
  comfyuiUrl: string;
  simulator: Simulator | undefined;
  close(): Promise<void>;
}

type FlowNode = Record<string, unknown>;

export const packageRoot = resolve(__dirname, '..', '..');
const EXAMPLES = join(packageRoot, 'examples');
export const DEFAULT_EXAMPLE = 'text-to-image';
const DASHBOARD_PACKAGE = '@flowfuse/node-red-dashboard';

/** Starts the simulator (unless a ComfyUI URL is given), then Node-RED; a failed start leaves nothing running or behind. */
export async function startApp(options: AppOptions): Promise<App> {
  checkExample(options.example ?? DEFAULT_EXAMPLE);
  const simulator = options.comfyuiUrl ? undefined : await startSimulator({ stepMs: 40 });
  try {
    return await startNodeRed(options, simulator);
  } catch (err) {
    // e.g. the editor port is taken: the simulator's port and temporary folder go too.
    await simulator?.close();
    throw err;
  }
}

async function startNodeRed(options: AppOptions, simulator: Simulator | undefined): Promise<App> {
  const comfyuiUrl = options.comfyuiUrl ?? (simulator as Simulator).url;
  process.env.COMFYUI_URL = comfyuiUrl;
  prepareFlows(options);

  // node-red is a devDependency: only this start-up code (never the nodes) loads it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRedEmbedded;
  const server = createServer();
  RED.init(server, {
    userDir: options.userDir,
    flowFile: 'flows.json',
    uiPort: options.port,
    httpAdminRoot: '/',
    // At / like the editor: Dashboard 2 asks for its icons at /dashboard/… whatever the root is.
    httpNodeRoot: '/',
    nodesDir: [packageRoot],
    credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // A demo that asks nothing and calls nowhere: no telemetry / update-notification question over
    // the flow, and no palette manager, whose catalogue the editor would fetch from the internet
    // on every load (an error in the console offline).
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { palette: { allowInstall: false } },
    editorTheme: { tours: false, palette: {}, projects: { enabled: false } },
    ...(options.settings ?? {}),
  });
  // The editor's routes first, then the flows' (http in, Dashboard 2's pages), both at /, as in a
  // Node-RED started on its own.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    RED.httpAdmin(req, res, () =>
      RED.httpNode(req, res, () => {
        res.statusCode = 404;
        res.end('Not found');
      }),
    );
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host ?? '127.0.0.1', () => done());
  });
  try {
    await RED.start();
  } catch (err) {
    await new Promise<void>((done) => server.close(() => done()));
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const editorUrl = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}/`;

  return {
    editorUrl,
    comfyuiUrl,
    simulator,
    async close() {
      await RED.stop();
      await new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      await simulator?.close();
    },
  };
}

/**
 * A new userDir gets the example flow. One that has flows keeps them, but gets the examples'
 * server configuration back if it lacks it: every example uses that one node (same id), so an
 * example imported from the menu joins it (Node-RED's "Import copy" reuses a configuration node
 * whose id exists) instead of bringing a copy at 127.0.0.1:8188, where no simulator listens.
 */
export function prepareFlows(options: AppOptions): void {
  mkdirSync(options.userDir, { recursive: true });
  const flowFile = join(options.userDir, 'flows.json');
  const example = options.example ?? DEFAULT_EXAMPLE;
  if (!existsSync(flowFile)) {
    writeFileSync(flowFile, JSON.stringify(options.flows ?? exampleFlow(example), null, 2));
    if (options.credentials) writeFileSync(join(options.userDir, 'flows_cred.json'), JSON.stringify(options.credentials, null, 2));
    return;
  }
  if (options.flows) return; // a caller's own flows: not ours to change
  let flows: unknown;
  try {
    flows = JSON.parse(readFileSync(flowFile, 'utf8'));
  } catch {
    return; // Node-RED reports a broken flow file itself
  }
  if (!Array.isArray(flows)) return;
  const nodes = flows as unknown[];
  const ids = new Set(nodes.map((node) => (node as FlowNode | null)?.id));
  // An example asked for by name joins flows that lack its tab (their own nodes win where ids meet);
  // otherwise only the server configuration is brought back.
  const wanted = options.example && !ids.has(tabId(example)) ? exampleFlow(example) : [exampleServer()];
  const missing = wanted.filter((node) => !ids.has(node.id));
  if (missing.length === 0) return;
  writeFileSync(flowFile, JSON.stringify([...nodes, ...missing], null, 2));
}

/** The examples' shared server configuration, with its URL taken from the environment. */
export function exampleServer(nodes = exampleNodes(DEFAULT_EXAMPLE)): FlowNode {
  const server = nodes.find((node) => node.type === 'comfyui-server');
  if (!server) throw new Error('the example has no comfyui-server node');
  return { ...server, url: '${COMFYUI_URL}' };
}

/** The example, on a tab of its own, with its server URL taken from the environment. */
export function exampleFlow(example = DEFAULT_EXAMPLE): FlowNode[] {
  const z = tabId(example);
  const tab = { id: z, type: 'tab', label: `ComfyUI: ${example.replace(/-/g, ' ')}`, disabled: false, info: '' };
  const nodes = exampleNodes(example);
  return [
    tab,
    ...nodes.map((node) => {
      if (node.type === 'comfyui-server') return exampleServer(nodes);
      return 'x' in node ? { ...node, z } : node;
    }),
  ];
}

/** The names `example` may take: the files of examples/ without `.json`. */
export function exampleNames(): string[] {
  return readdirSync(EXAMPLES)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** A name that is no example, or the dashboard without Dashboard 2 installed, stops the start with what to do. */
export function checkExample(example: string): void {
  if (!exampleNames().includes(example)) {
    throw new Error(`There is no example "${example}"; choose one of: ${exampleNames().join(', ')}`);
  }
  const needsDashboard = exampleNodes(example).some((node) => typeof node.type === 'string' && node.type.startsWith('ui-'));
  // The package has no main file: its package.json is what can be resolved.
  if (needsDashboard && !resolvable(`${DASHBOARD_PACKAGE}/package.json`)) {
    throw new Error(
      `The example "${example}" needs FlowFuse Dashboard 2: npm install (it is a devDependency) or npm install ${DASHBOARD_PACKAGE}`,
    );
  }
}

/** Where an example's Dashboard 2 page is, for a Node-RED at `editorUrl`; undefined for an example without one. */
export function dashboardUrl(editorUrl: string, example: string): string | undefined {
  const nodes = exampleNodes(example);
  const base = nodes.find((node) => node.type === 'ui-base');
  const page = nodes.find((node) => node.type === 'ui-page');
  if (typeof base?.path !== 'string' || typeof page?.path !== 'string') return undefined;
  return `${editorUrl}${base.path.replace(/^\//, '')}${page.path}`;
}

/** The text-to-image tab keeps the id it always had, so user directories from before find it. */
function tabId(example: string): string {
  return example === DEFAULT_EXAMPLE ? 'comfyui-start-tab' : `comfyui-start-${example}`;
}

function exampleNodes(example: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES, `${example}.json`), 'utf8')) as FlowNode[];
}

function resolvable(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

interface NodeRedEmbedded {
  init(server: ReturnType<typeof createServer>, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  httpNode: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
}
