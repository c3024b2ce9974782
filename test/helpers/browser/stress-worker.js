// A Web Worker of the browser stress test: runs stress.js's stressWorker with the built package.
import * as hakmem from '/dist/index.js';
import { stressWorker } from '/test/helpers/stress.js';

self.onmessage = (e) => self.postMessage(stressWorker(hakmem, e.data));
