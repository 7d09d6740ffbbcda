/** An error in one line for logs and attempt records: its name, code, message and cause. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : '';
    return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}${cause}`;
  }
  return String(error);
}
