/**
 * What `npm start` runs: Node-RED with this package and the "text to image" example deployed,
 * pointed at COMFYUI_URL, or at the bundled simulator when that is unset.
 * The examples' shared server configuration reads its URL from ${COMFYUI_URL}, so edits a person
 * makes to the flow survive restarts while the simulator's port may change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  /** The flows to start with when the userDir has none (default: the text-to-image example). */
  flows?: Record<string, unknown>[];
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
const EXAMPLE = join(packageRoot, 'examples', 'text-to-image.json');
const TAB_ID = 'comfyui-start-tab';

/** Starts the simulator (unless a ComfyUI URL is given), then Node-RED; a failed start leaves nothing running or behind. */
export async function startApp(options: AppOptions): Promise<App> {
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
    httpNodeRoot: '/api/',
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
  if (!existsSync(flowFile)) {
    writeFileSync(flowFile, JSON.stringify(options.flows ?? exampleFlow(), null, 2));
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
  const server = exampleServer();
  if (nodes.some((node) => (node as FlowNode | null)?.id === server.id)) return;
  writeFileSync(flowFile, JSON.stringify([...nodes, server], null, 2));
}

/** The examples' shared server configuration, with its URL taken from the environment. */
export function exampleServer(nodes = exampleNodes()): FlowNode {
  const server = nodes.find((node) => node.type === 'comfyui-server');
  if (!server) throw new Error(`${EXAMPLE} has no comfyui-server node`);
  return { ...server, url: '${COMFYUI_URL}' };
}

/** The example, on a tab of its own, with its server URL taken from the environment. */
export function exampleFlow(): FlowNode[] {
  const tab = { id: TAB_ID, type: 'tab', label: 'ComfyUI: text to image', disabled: false, info: '' };
  const nodes = exampleNodes();
  return [
    tab,
    ...nodes.map((node) => {
      if (node.type === 'comfyui-server') return exampleServer(nodes);
      return 'x' in node ? { ...node, z: TAB_ID } : node;
    }),
  ];
}

function exampleNodes(): FlowNode[] {
  return JSON.parse(readFileSync(EXAMPLE, 'utf8')) as FlowNode[];
}

interface NodeRedEmbedded {
  init(server: ReturnType<typeof createServer>, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  httpNode: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
}
