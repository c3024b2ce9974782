// Native reference: workloads A and C2 in C (bench/peers/built/workload.c, built at bench time) against
// the system malloc (glibc).
// Not installed -> the import throws and the runner lists it as not run, with the install command.
import { nativePeer } from './built/native.ts';

export const peer = await nativePeer('glibc', true); // opt-in: not in the default bench (about a minute)
