/**
 * What `npm start` runs: Node-RED with this package and the "text to image" example deployed,
 * pointed at COMFYUI_URL, or at the bundled simulator when that is unset.
 * The example's config node reads its URL from ${COMFYUI_URL}, so edits a person makes to the
 * flow survive restarts while the simulator's port may change.
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

export const packageRoot = resolve(__dirname, '..', '..');
const EXAMPLE = join(packageRoot, 'examples', 'text-to-image.json');
const TAB_ID = 'comfyui-start-tab';

export async function startApp(options: AppOptions): Promise<App> {
  const simulator = options.comfyuiUrl ? undefined : await startSimulator({ stepMs: 40 });
  const comfyuiUrl = options.comfyuiUrl ?? (simulator as Simulator).url;
  process.env.COMFYUI_URL = comfyuiUrl;

  mkdirSync(options.userDir, { recursive: true });
  const flowFile = join(options.userDir, 'flows.json');
  if (!existsSync(flowFile)) {
    writeFileSync(flowFile, JSON.stringify(options.flows ?? exampleFlow(), null, 2));
    if (options.credentials) writeFileSync(join(options.userDir, 'flows_cred.json'), JSON.stringify(options.credentials, null, 2));
  }

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
  await RED.start();
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

/** The example, on a tab of its own, with its server URL taken from the environment. */
export function exampleFlow(): Record<string, unknown>[] {
  const nodes = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>[];
  const tab = { id: TAB_ID, type: 'tab', label: 'ComfyUI: text to image', disabled: false, info: '' };
  return [
    tab,
    ...nodes.map((node) => {
      if (node.type === 'comfyui-server') return { ...node, url: '${COMFYUI_URL}' };
      return 'x' in node ? { ...node, z: TAB_ID } : node;
    }),
  ];
}

interface NodeRedEmbedded {
  init(server: ReturnType<typeof createServer>, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  httpNode: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
}
