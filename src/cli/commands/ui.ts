/**
 * `gpu-dag ui`: starts the dashboard (`src/ui/server.ts`) over the store, prints its URL — the
 * access token in it — as the first line of stdout, and serves until Ctrl-C or SIGTERM.
 *
 * @module
 */
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, note, out } from "../context.js";

/** See the module comment. */
export async function uiCommand(context: CliContext, options: { port?: string; host?: string }): Promise<number> {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port: "${options.port}" is not a port number (0–65535)`);
  const { startUi } = await import("../../ui/server.js");
  const server = await startUi({
    home: context.home,
    port,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(process.env["GPU_DAG_UI_TOKEN"] ? { token: process.env["GPU_DAG_UI_TOKEN"] } : {}),
  });
  out(`${server.url}\n`);
  note(`gpu-dag ui: serving store ${context.home}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void server.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return ExitCode.Ok;
}
