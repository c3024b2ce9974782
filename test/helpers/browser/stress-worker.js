// A Web Worker of the browser stress test: runs stress-core.js's stressWorker with the built package.
import * as hakmem from '/dist/index.js';
import { stressWorker } from '/test/stress-core.js';

self.onmessage = (e) => self.postMessage(stressWorker(hakmem, e.data));
