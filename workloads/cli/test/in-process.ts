import { run } from '../src/program.js';

/** `dsm ...args` run in this process, with its exit code and what it wrote to stdout and stderr. */
export async function dsmInProcess(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(['node', 'dsm', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}
