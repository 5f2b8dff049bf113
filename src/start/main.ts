/**
 * `npm start`: Node-RED on http://127.0.0.1:1880 (or $HOST:$PORT, user directory
 * $NODE_RED_USER_DIR or .node-red/) with the example flow ($COMFYUI_EXAMPLE, default text-to-image),
 * against $COMFYUI_URL or the bundled simulator. Ctrl-C stops everything.
 */
import { join } from 'node:path';
import { dashboardUrl, DEFAULT_EXAMPLE, packageRoot, startApp } from './app';

const DEFAULT_PORT = 1880;

function portFromEnv(): number {
  const raw = process.env.PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (0 to 65535), not "${raw}"`);
  return port;
}

/** What to do about a failed start, for the errors a person can fix from the command line. */
function advice(err: unknown, port: number, host: string | undefined): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return `\nPort ${port} is already in use (another Node-RED?). Start on another one: PORT=${port + 1} npm start`;
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return `\nHOST=${host ?? ''} is not an address of this machine. Leave HOST unset (127.0.0.1), or use HOST=0.0.0.0 for every interface.`;
  }
  return '';
}

async function main(): Promise<void> {
  const port = portFromEnv();
  const host = process.env.HOST || undefined;
  const example = process.env.COMFYUI_EXAMPLE || undefined;
  const starting = startApp({
    example,
    port,
    host,
    userDir: process.env.NODE_RED_USER_DIR || join(packageRoot, '.node-red'),
    comfyuiUrl: process.env.COMFYUI_URL || undefined,
  });
  // Ctrl-C while still starting waits for the start to finish, then stops cleanly: the simulator's
  // temporary folder goes with it.
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    starting
      .then((app) => app.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let app;
  try {
    app = await starting;
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}${advice(err, port, host)}`, { cause: err });
  }
  if (stopping) return;
  const target = app.simulator ? `the bundled ComfyUI simulator at ${app.comfyuiUrl}` : `ComfyUI at ${app.comfyuiUrl}`;
  console.log(`\nnode-red-comfyui is running against ${target}`);
  const dashboard = dashboardUrl(app.editorUrl, example ?? DEFAULT_EXAMPLE);
  if (dashboard) {
    console.log(`Open the dashboard: ${dashboard}`);
    console.log(`Open the editor: ${app.editorUrl}`);
  } else {
    console.log(`Open the editor: ${app.editorUrl}  (click the "generate" inject node, then look at the debug sidebar)`);
  }
  console.log(
    'Examples (menu → Import → Examples → @comfy-red/node-red-comfyui) use the server configuration already here: ' +
      'when Node-RED says some nodes already exist, choose "Import copy".\n',
  );
}

main().catch((err: unknown) => {
  console.error(`Could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
