import { formatBytes } from './format.js';

/** A one-line progress display on stderr, drawn only when stderr is a terminal. */
export class ProgressLine {
  private last = 0;
  private readonly enabled: boolean;

  constructor(private readonly label: string, quiet = false) {
    this.enabled = !quiet && process.stderr.isTTY === true;
  }

  /** Redraws the line at most ten times a second. */
  update(files: number, bytes: number, path: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const width = process.stderr.columns ?? 80;
    const text = `${this.label} ${files} files, ${formatBytes(bytes)}  ${path}`;
    process.stderr.write(`\r${text.slice(0, width - 1).padEnd(width - 1)}`);
  }

  /** Clears the line. */
  done(): void {
    if (this.enabled && this.last > 0) process.stderr.write(`\r${' '.repeat((process.stderr.columns ?? 80) - 1)}\r`);
  }
}
