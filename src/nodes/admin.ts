/**
 * The editor's routes, all under /comfyui/ and all behind Node-RED's permissions: read for
 * lookups and for testing a deployed configuration, write for testing the values of a dialog.
 *
 * Everything in a request is untrusted. Routes act only on `comfyui-server` nodes; a lookup
 * reaches only a deployed server's own URL; the one route that takes a URL from the request uses
 * stored secrets only for that server's deployed URL (see test-request.ts) and answers with its
 * step verdicts, never with what a server answered. Routes that send requests take JSON bodies
 * only: an HTML form (which any web page can post here, cross-site) cannot send JSON.
 */
import type { NodeAPI } from 'node-red';
import type { NextFunction, Request, Response } from 'express';
import { diagnose } from '../client/diagnose';
import { ComfyError, isComfyError } from '../client/errors';
import { checkPrompt } from '../client/prompt-check';
import { convertUiWorkflow } from '../client/ui-convert';
import { nodeProblems } from '../client/validation';
import { normalizeWorkflow } from '../client/workflow';
import type { ServerNode } from './server-api';
import { clientOptionsFrom } from './server-options';
import { testPlan } from './test-request';

export function registerAdminRoutes(RED: NodeAPI): void {
  const read = RED.auth.needsPermission('comfyui-server.read');
  const write = RED.auth.needsPermission('comfyui-server.write');

  const deployed = (req: Request, res: Response): ServerNode | undefined => {
    const node = RED.nodes.getNode(String(req.params.id)) as ServerNode | null;
    if (!node || node.type !== 'comfyui-server') {
      res.status(404).json({ error: 'No deployed ComfyUI server configuration with that id: deploy it first', code: 'NOT_FOUND' });
      return undefined;
    }
    return node;
  };

  /** Test connection of a deployed configuration, with its own settings and credentials. */
  RED.httpAdmin.post('/comfyui/servers/:id/test', read, jsonOnly, (req: Request, res: Response) => {
    const node = deployed(req, res);
    if (node) answer(res, () => diagnose(clientOptionsFrom(RED, node.settings, node.credentials ?? {})));
  });

  /** Test connection of the values in an edit dialog (maybe never deployed). */
  RED.httpAdmin.post('/comfyui/test', write, jsonOnly, (req: Request, res: Response) => {
    answer(res, async () => {
      const plan = testPlan(RED, req.body);
      return { ...(await diagnose(plan.options)), withheld: plan.withheld };
    });
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

  /** The submit dialog: a pasted UI-format workflow converted with the deployed server's definitions. */
  RED.httpAdmin.post('/comfyui/servers/:id/convert', read, jsonOnly, (req: Request, res: Response) => {
    const node = deployed(req, res);
    if (node) answer(res, async () => ({ prompt: convertUiWorkflow(bodyField(req, 'workflow'), await clientOrThrow(node).definitions()) }));
  });
  /** The submit dialog: what the deployed server's definitions find wrong in an API workflow, per node. */
  RED.httpAdmin.post('/comfyui/servers/:id/check', read, jsonOnly, (req: Request, res: Response) => {
    const node = deployed(req, res);
    if (node)
      answer(res, async () => {
        const prompt = normalizeWorkflow(bodyField(req, 'prompt'));
        return { problems: nodeProblems(checkPrompt(prompt, await clientOrThrow(node).definitions()), prompt) };
      });
  });

  // A body Node-RED's parsers refuse (broken JSON, too large) fails before our routes; the
  // default handler would answer with an HTML page and a stack trace.
  RED.httpAdmin.use('/comfyui', unreadableBody);
}

/** 415 for anything but `application/json`, before anything is sent anywhere. */
function jsonOnly(req: Request, res: Response, next: NextFunction): void {
  const mediaType = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (mediaType === 'application/json') return next();
  res.status(415).json({ error: 'This route takes a JSON body (Content-Type: application/json)', code: 'BAD_INPUT' });
}

function unreadableBody(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const error = status === 413 ? 'The request body is too large' : 'The request body cannot be read as JSON';
    res.status(status).json({ error, code: 'BAD_INPUT' });
    return;
  }
  res.status(500).json({ error: 'The request failed', code: 'ERROR' });
}

/** One field of a JSON body; the body itself is whatever the request sent. */
function bodyField(req: Request, name: string): unknown {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && Object.prototype.hasOwnProperty.call(body, name) ? (body as Record<string, unknown>)[name] : undefined;
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
        if (!isComfyError(err)) {
          // Not one of ours: its message is not written for the editor, and may say anything.
          res.status(500).json({ error: 'The request failed', code: 'ERROR' });
          return;
        }
        const status = err.code === 'NOT_FOUND' ? 404 : ['INVALID_URL', 'INVALID_CONFIG', 'BAD_INPUT', 'BAD_WORKFLOW', 'UI_WORKFLOW'].includes(err.code) ? 400 : 502;
        res.status(status).json({ error: err.message, code: err.code });
      },
    );
}
