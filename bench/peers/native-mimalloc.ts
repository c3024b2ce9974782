// Native reference: workloads A and C2 in C (bench/peers/built/workload.c, built at bench time) against
// mimalloc via LD_PRELOAD (Debian package libmimalloc2.0).
// Not installed -> the import throws and the runner lists it as not run, with the install command.
import { nativePeer } from './built/native.ts';

export const peer = await nativePeer('mimalloc');
