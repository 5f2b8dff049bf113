/**
 * `npm start`: Node-RED on http://127.0.0.1:1880 (or $PORT) with the example flow, against
 * $COMFYUI_URL or the bundled simulator. Ctrl-C stops everything.
 */
import { join } from 'node:path';
import { packageRoot, startApp } from './app';

async function main(): Promise<void> {
  const app = await startApp({
    port: process.env.PORT ? Number(process.env.PORT) : 1880,
    host: process.env.HOST,
    userDir: process.env.NODE_RED_USER_DIR ?? join(packageRoot, '.node-red'),
    comfyuiUrl: process.env.COMFYUI_URL || undefined,
  });
  const target = app.simulator ? `the bundled ComfyUI simulator at ${app.comfyuiUrl}` : `ComfyUI at ${app.comfyuiUrl}`;
  console.log(`\nnode-red-comfyui is running against ${target}`);
  console.log(`Open the editor: ${app.editorUrl}  (click the "generate" inject node, then look at the debug sidebar)\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`Could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
