// Reads run.sh's lines from stdin; prints per variant min / median / max ns/op and the median
// (min-max) of its ratio to the floor of the same round.
import { readFileSync } from 'node:fs';
const rounds = [];
for (const line of readFileSync(0, 'utf8').split('\n')) {
  if (line.startsWith('round')) rounds.push({});
  else if (line.trim() && rounds.length) { const [name, ns] = line.trim().split(/\s+/); rounds.at(-1)[name] = Number(ns); }
}
const med = (x) => { const s = [...x].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const names = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
const rows = names.map((n) => {
  const t = rounds.filter((r) => n in r).map((r) => r[n]);
  const q = rounds.filter((r) => n in r && 'floor' in r).map((r) => r[n] / r.floor);
  return { n, t, q };
}).sort((a, b) => med(a.q) - med(b.q));
console.log(`${rounds.length} rounds; ns/op: min / median / max of the processes' medians; ratio to the same round's floor: median (min-max)`);
for (const { n, t, q } of rows) {
  console.log(`${n.padEnd(20)} ${Math.min(...t).toFixed(2).padStart(6)} ${med(t).toFixed(2).padStart(6)} ${Math.max(...t).toFixed(2).padStart(6)}   ${med(q).toFixed(2)}x (${Math.min(...q).toFixed(2)}-${Math.max(...q).toFixed(2)})`);
}
