// Progress of a long bench run, on stderr. On a terminal: result lines scroll above one status line
// redrawn in place (a bar, which configuration, run k of N, elapsed and estimated time left).
// Otherwise (a pipe, a log file, CI): plain lines only, each with the same facts.
//
// The estimate: each planned process is expected to take as long as the same configuration took
// last time, or the mean of all processes so far when that configuration has not run yet.

export interface Step {
  key: string;
  label: string;
  rep: number;
}

export class Progress {
  private readonly tty: boolean;
  private readonly t0 = Date.now();
  private readonly last = new Map<string, number>();
  private doneCount = 0;
  private sum = 0;
  private current: Step | undefined;
  private stepStart = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly plan: Step[],
    private readonly reps: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    tty?: boolean,
  ) {
    this.tty = tty ?? (!!out.isTTY && !process.env.CI && process.env.TERM !== 'dumb');
  }

  /** a message line (kept above the status line on a terminal) */
  log(line: string): void {
    if (this.tty) this.out.write(`\r\x1b[2K${line}\n`);
    else this.out.write(line + '\n');
    this.draw();
  }

  start(step: Step): void {
    this.current = step;
    this.stepStart = Date.now();
    if (this.tty) {
      this.draw();
      if (!this.timer) {
        this.timer = setInterval(() => this.draw(), 500);
        this.timer.unref();
      }
    }
  }

  /** the current step ended; `line` is its result */
  done(line: string): void {
    const step = this.current;
    if (!step) throw new Error('Progress.done() without start()');
    const s = (Date.now() - this.stepStart) / 1000;
    this.last.set(step.key, s);
    this.sum += s;
    this.doneCount++;
    this.current = undefined;
    const pos = `[run ${step.rep}/${this.reps} ${this.doneCount}/${this.plan.length}]`;
    this.log(this.tty ? `${pos} ${line}` : `${pos} ${line}  (elapsed ${clock(this.elapsed())}, ~${clock(this.remaining())} left)`);
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.out.write('\r\x1b[2K');
  }

  elapsed(): number {
    return (Date.now() - this.t0) / 1000;
  }

  /** estimated seconds left, the current step included */
  remaining(): number {
    const mean = this.doneCount ? this.sum / this.doneCount : 0;
    let left = 0;
    for (let i = this.doneCount; i < this.plan.length; i++) left += this.last.get(this.plan[i].key) ?? mean;
    if (this.current) left = Math.max(0, left - (Date.now() - this.stepStart) / 1000);
    return left;
  }

  /** the status line (exported for tests) */
  statusLine(width: number): string {
    const n = this.plan.length;
    const frac = n ? this.doneCount / n : 1;
    const barW = 20;
    const fill = Math.round(frac * barW);
    const bar = `[${'#'.repeat(fill)}${'-'.repeat(barW - fill)}]`;
    const eta = this.doneCount ? `~${clock(this.remaining())} left` : 'estimating';
    const what = this.current ? `run ${this.current.rep}/${this.reps}: ${this.current.label}` : '';
    const s = `${bar} ${this.doneCount}/${n}  ${clock(this.elapsed())} elapsed, ${eta}  ${what}`;
    return s.length > width ? s.slice(0, Math.max(0, width - 1)) : s;
  }

  private draw(): void {
    if (!this.tty || this.doneCount >= this.plan.length) return;
    this.out.write(`\r\x1b[2K${this.statusLine((this.out.columns || 100) - 1)}`);
  }
}

export function clock(s: number): string {
  const t = Math.round(s);
  const m = Math.floor(t / 60);
  return `${m}:${String(t % 60).padStart(2, '0')}`;
}
