/** Where a command writes: injected so tests run commands in-process and read what they printed. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Whether stderr is an interactive terminal (progress lines are only drawn there). */
  readonly interactive: boolean;
  /** Resolves when the user asks to stop (Ctrl-C); long-running commands race their work against it. */
  readonly interrupted: Promise<void>;
}

/** Writes `text`, waiting for the stream to take it when it asks to (a full pipe); rejects on its error. */
export function writeText(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
