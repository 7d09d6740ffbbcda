import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built example app: what `npm start` runs after its build. */
export const EXAMPLE_MAIN = fileURLToPath(new URL('../../dist/apps/example/main.js', import.meta.url));

export interface ExampleProcess {
  output: () => string;
  /** The exit code, or the signal that ended it. */
  exit: Promise<number | string | null>;
  /** Sends a signal (SIGTERM by default): a graceful shutdown. */
  kill: (signal?: NodeJS.Signals) => void;
  pid: number;
  /** The exit code or signal once it exited, else null. */
  readonly exitCode: number | string | null;
}

/** Runs the built example app as a child process with exactly this environment (and PATH). */
export function runExample(env: Record<string, string>): ExampleProcess {
  const child = spawn(process.execPath, [EXAMPLE_MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let exitCode: number | string | null = null;
  const exit = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolve(exitCode);
    }),
  );
  return {
    output: () => output,
    exit,
    kill: (signal = 'SIGTERM') => child.kill(signal),
    pid: child.pid!,
    get exitCode() {
      return exitCode;
    },
  };
}

/** Waits until the process printed something matching `pattern`; throws with its output otherwise. */
export async function waitForOutput(started: ExampleProcess, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
