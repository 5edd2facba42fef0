/**
 * Asking for a key's passphrase on the terminal, as `ssh` does: without echo, one prompt at a
 * time, only when both stdin and stderr are a TTY (a detached controller or CI never waits for an
 * answer that cannot come). The passphrase is handed to the key parser and dropped: it is never
 * written anywhere, and only the decrypted key is kept, in memory, for reconnections.
 *
 * @module
 */

/** Asks for a passphrase; resolves `undefined` when the user gives none (Ctrl-C, Ctrl-D, empty). */
export type PassphrasePrompt = (question: string) => Promise<string | undefined>;

/** A readable terminal (the part of `process.stdin` the prompt uses). */
export interface PromptInput {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  off(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** A writable terminal (the part of `process.stderr` the prompt uses). */
export interface PromptOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * The terminal prompt, or `undefined` when there is no terminal to ask on. Prompts of several
 * connections are asked one after the other.
 */
export function ttyPassphrasePrompt(input: PromptInput = process.stdin, output: PromptOutput = process.stderr): PassphrasePrompt | undefined {
  if (!input.isTTY || !output.isTTY || !input.setRawMode) return undefined;
  return (question) => {
    const asked = queue.then(() => askHidden(input, output, question));
    queue = asked.catch(() => undefined);
    return asked;
  };
}

function askHidden(input: PromptInput, output: PromptOutput, question: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const wasRaw = input.isRaw ?? false;
    let typed = "";
    const finish = (value: string | undefined) => {
      input.off("data", onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return finish(typed === "" ? undefined : typed);
        if (char === "\u0003" || char === "\u0004") return finish(undefined);
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    // Raw (no echo) before the question shows: nothing typed after it is ever echoed.
    input.setRawMode?.(true);
    input.on("data", onData);
    input.resume();
    output.write(question);
  });
}
