// A tiny static server for the browser example: serves the repository's examples/ and dist/ with
// the headers that make a page cross-origin isolated, which browsers require before they give a
// page SharedArrayBuffer (and so a heap that Web Workers can share):
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
//
//   npm run build && node examples/browser/serve.mjs [port]     then open the URL it prints
//
// Port 0 picks a free port. Only 127.0.0.1 is listened on.
import { createServer } from 'node:http';
import { readFile } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url)); // the repository
const served = [join(root, 'examples') + sep, join(root, 'dist') + sep];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  if (path === '/') {
    res.writeHead(302, { ...HEADERS, Location: '/examples/browser/' }).end();
    return;
  }
  let file = join(root, normalize(path)); // normalize: no way out of root with ../
  if (file.endsWith(sep)) file += 'index.html';
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !served.some((dir) => file.startsWith(dir))) {
    res.writeHead(404, HEADERS).end();
    return;
  }
  readFile(file, (err, data) => {
    if (err) res.writeHead(404, HEADERS).end();
    else res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(data);
  });
});

const port = Number(process.argv[2] ?? 8080);
server.listen(port, '127.0.0.1', () => {
  console.log(`hakmem browser example: http://127.0.0.1:${server.address().port}/examples/browser/`);
});
