import type { CliIo } from './io.js';

/** A one-line progress indicator on an interactive stderr; silent otherwise (pipes, CI, tests). */
export class Progress {
  private lastDrawMs = 0;
  private drawn = false;

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly total: number | undefined,
    /** How `done` reads after the percentage; default megabytes (for file reads). */
    private readonly unit: (done: number) => string = (done) => `${(done / 1e6).toFixed(1)} MB`,
  ) {}

  update(done: number): void {
    if (!this.io.interactive) return;
    const now = Date.now();
    if (now - this.lastDrawMs < 200) return;
    this.lastDrawMs = now;
    const pct = this.total ? ` ${Math.min(100, Math.floor((100 * done) / this.total))}%` : '';
    this.io.stderr.write(`\r${this.label}${pct} (${this.unit(done)})\u001b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.io.stderr.write('\r\u001b[K');
    this.drawn = false;
  }
}
