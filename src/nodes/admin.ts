/**
 * The editor's routes, all under /comfyui/ and all behind Node-RED's permissions: read for
 * lookups, write for testing undeployed values. A deployed server is found by its config
 * node's id; the only route that takes a URL from the request needs write permission, which
 * is what deploying that URL needs anyway.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { diagnose } from '../client/diagnose';
import { ComfyError, isComfyError } from '../client/errors';
import type { ServerNode } from './server-api';
import { clientOptionsFrom } from './server-options';
import type { ServerCredentials, ServerSettings } from './server-options';

/** What the editor sends back for a password credential it did not change. */
const UNCHANGED = '__PWRD__';

export function registerAdminRoutes(RED: NodeAPI): void {
  const read = RED.auth.needsPermission('comfyui-server.read');
  const write = RED.auth.needsPermission('comfyui-server.write');

  const deployed = (req: Request, res: Response): ServerNode | undefined => {
    const node = RED.nodes.getNode(String(req.params.id)) as ServerNode | null;
    if (!node || node.type !== 'comfyui-server') {
      res.status(404).json({ error: 'No deployed ComfyUI server configuration with that id: deploy it first' });
      return undefined;
    }
    return node;
  };

  /** Test connection of a deployed configuration. */
  RED.httpAdmin.get('/comfyui/servers/:id/test', read, (req: Request, res: Response) => {
    const node = deployed(req, res);
    if (!node) return;
    const settings = node.settings;
    answer(res, () => diagnose(clientOptionsFrom(RED, settings, (node.credentials ?? {}))));
  });

  /** Test connection of the values in an edit dialog (maybe never deployed). */
  RED.httpAdmin.post('/comfyui/test', write, (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { id?: string; settings?: ServerSettings; credentials?: ServerCredentials };
    if (!body.settings || typeof body.settings.url !== 'string') {
      res.status(400).json({ error: 'settings.url is required' });
      return;
    }
    // Unchanged password fields come as a placeholder: take the stored value of that node.
    const stored = (body.id ? (RED.nodes.getCredentials(body.id) as ServerCredentials | undefined) : undefined) ?? {};
    const credentials: ServerCredentials = {};
    for (const key of ['user', 'password', 'token', 'headers', 'apiKey'] as const) {
      const value = body.credentials?.[key];
      credentials[key] = value === UNCHANGED || value === undefined ? stored[key] : String(value);
    }
    answer(res, () => diagnose(clientOptionsFrom(RED, body.settings as ServerSettings, credentials)));
  });

  /** Lookups for editor dropdowns: model folders and files, node definitions. */
  RED.httpAdmin.get('/comfyui/servers/:id/models', read, (req: Request, res: Response) => {
    const node = deployed(req, res);
    if (node) answer(res, () => clientOrThrow(node).http.models());
  });
  RED.httpAdmin.get('/comfyui/servers/:id/models/:folder', read, (req: Request, res: Response) => {
    const node = deployed(req, res);
    if (node) answer(res, () => clientOrThrow(node).modelFiles(String(req.params.folder)));
  });
  RED.httpAdmin.get('/comfyui/servers/:id/object_info/:nodeClass', read, (req: Request, res: Response) => {
    const node = deployed(req, res);
    if (node) answer(res, () => clientOrThrow(node).nodeInfo(String(req.params.nodeClass)));
  });
}

function clientOrThrow(node: ServerNode) {
  if (!node.client) throw node.configError ?? new ComfyError('INVALID_URL', 'The server configuration is invalid');
  return node.client;
}

/** JSON answer; errors as {error, code} with a status that says whose fault it was. */
function answer(res: Response, work: () => Promise<unknown>): void {
  Promise.resolve()
    .then(work)
    .then(
      (value) => res.json(value),
      (err: unknown) => {
        const code = isComfyError(err) ? err.code : 'ERROR';
        const status = code === 'NOT_FOUND' ? 404 : code === 'INVALID_URL' || code === 'INVALID_CONFIG' ? 400 : 502;
        res.status(status).json({ error: err instanceof Error ? err.message : String(err), code });
      },
    );
}
