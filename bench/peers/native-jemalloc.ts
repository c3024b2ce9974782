// Native reference: workloads A and C2 in C (bench/peers/built/workload.c, built at bench time) against
// jemalloc via LD_PRELOAD (Debian package libjemalloc2).
// Not installed -> the import throws and the runner lists it as not run, with the install command.
import { nativePeer } from './built/native.ts';

export const peer = await nativePeer('jemalloc', true); // opt-in: not in the default bench (about a minute)
