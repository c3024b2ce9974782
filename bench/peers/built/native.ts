// Native references, built at bench time: bench/peers/built/workload.c (workloads A and C2) and
// bench/peers/built/replay.c (trace replay), compiled with gcc into bench/.cache/ (once per source,
// compiler version and flags), run against the system malloc or, via LD_PRELOAD, mimalloc or
// jemalloc from their Debian packages. Missing gcc or libraries throw SkipPeer with the command
// that installs them; each program checks which allocator actually served malloc.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cached, fileId, hash, requireOptIn, run, SkipPeer, which } from './cache.ts';
import type { HeapPeer, OutsideResult, Workload } from '../../synthetic/core.ts';

export type NativeLib = 'glibc' | 'mimalloc' | 'jemalloc';

const CFLAGS = ['-O2', '-std=gnu11', '-Wall'];

/** Debian package and shared object of each preloaded allocator */
const PRELOAD: Record<Exclude<NativeLib, 'glibc'>, { pkg: string; so: string }> = {
  mimalloc: { pkg: 'libmimalloc2.0', so: 'libmimalloc.so.2' },
  jemalloc: { pkg: 'libjemalloc2', so: 'libjemalloc.so.2' },
};

/** The compiled program bench/peers/built/NAME.c (built and cached when missing). */
export async function nativeProgram(name: 'workload' | 'replay'): Promise<string> {
  const cc = which('gcc') ?? which('cc');
  if (!cc) throw new SkipPeer('no C compiler (gcc); install: apt-get install -y gcc libc6-dev');
  const src = fileURLToPath(new URL(`./${name}.c`, import.meta.url));
  const source = readFileSync(src, 'utf8');
  // the compiler's file identity, not `cc --version`: no process spawned when the program is cached
  return cached(`${name}-${hash(source, fileId(cc), ...CFLAGS)}`, (tmp) => {
    try {
      execFileSync(cc, [...CFLAGS, '-o', tmp, src], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
      if (/stdio\.h|No such file/.test(err))
        throw new SkipPeer(`C headers missing; install: apt-get install -y libc6-dev (${err.split('\n')[0]})`);
      throw new Error(`${cc} ${name}.c failed: ${err}`);
    }
  });
}

/** LD_PRELOAD value for a library ('' for glibc); SkipPeer with the install command when absent. */
export function preloadPath(lib: NativeLib): string {
  if (lib === 'glibc') return '';
  const { pkg, so } = PRELOAD[lib];
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    if (existsSync(`${dir}/${so}`)) return `${dir}/${so}`;
  }
  const line = run('ldconfig', ['-p'])
    ?.split('\n')
    .find((l) => l.trim().startsWith(so + ' '));
  const path = line?.split('=>')[1]?.trim();
  if (path && existsSync(path)) return path;
  throw new SkipPeer(`${lib} is not installed (${so}); install: apt-get install -y ${pkg}`);
}

/** "glibc 2.36", "mimalloc 2.0.9+ds-2" (the Debian package's version when dpkg knows it) */
export function libVersion(lib: NativeLib): string {
  const pkg = lib === 'glibc' ? 'libc6' : PRELOAD[lib].pkg;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format string
  const v = run('dpkg-query', ['-W', '-f', '${Version}', pkg])?.trim();
  return v ? `${lib} ${v}` : lib;
}

/** Runs a native program with `lib` preloaded; returns its JSON line, checked for the allocator. */
export function runNative(bin: string, args: string[], lib: NativeLib): Record<string, unknown> {
  const preload = preloadPath(lib);
  const env = { ...process.env };
  if (preload) env.LD_PRELOAD = preload;
  else delete env.LD_PRELOAD;
  let out: string;
  try {
    out = execFileSync(bin, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
  } catch (e) {
    const err = (e as { stderr?: string }).stderr?.trim() || String(e);
    throw new Error(`native ${lib}: ${err.split('\n')[0]}`);
  }
  const line = out.trim().split('\n').pop() ?? '';
  const r = JSON.parse(line) as Record<string, unknown>;
  if (r.allocator !== lib)
    throw new Error(`native ${lib}: malloc was served by ${String(r.allocator)} (LD_PRELOAD=${preload} not effective?)`);
  return r;
}

/**
 * The peer `native-LIB` for bench/synthetic/run.ts: workload A / C2 as a C program. Import-time work: find
 * the library (or throw SkipPeer), build the program when not cached.
 */
export async function nativePeer(lib: NativeLib, optIn = false): Promise<HeapPeer> {
  if (optIn) requireOptIn(`native-${lib}`);
  preloadPath(lib);
  const bin = await nativeProgram('workload');
  const how = lib === 'glibc' ? 'the system malloc' : `LD_PRELOAD=${PRELOAD[lib].so}`;
  return {
    kind: 'heap',
    name: `native-${lib}`,
    get about() {
      // a getter: the version look-up spawns dpkg-query, needed only by the runner's table
      return `C program (bench/peers/built/workload.c, gcc ${CFLAGS[0]}), same loop, ${libVersion(lib)} (${how}); hw = peak RSS growth`;
    },
    create() {
      throw new Error(`native-${lib} runs outside node (runOutside)`);
    },
    runOutside(w: Workload): OutsideResult {
      const r = runNative(bin, [w.kind, String(w.cycles), String(w.ws), String(w.seed), w.sizes], lib);
      return {
        ms: r.ms as number,
        nsPerOp: r.nsPerOp as number,
        finalState: r.finalState as number,
        highWater: r.highWater as number,
        highWaterKind: 'sampled',
      };
    },
  };
}
