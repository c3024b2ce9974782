// Runs one benchmark child process (node + argv, from the project root) and returns the JSON
// object it prints as its last stdout line; rejects with the most useful stderr line otherwise.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function runJsonChild<T>(argv: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T);
      else reject(new Error(`exit ${code}: ${firstLine(errorLine(err) || out || '(no output)')}`));
    });
  });
}

export function firstLine(s: string): string {
  return s.trim().split('\n')[0]!.slice(0, 200);
}

/** The most useful line of a child's stack trace: the first one that names an error. */
function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => /Error|error:/.test(l)) ?? stderr;
}
