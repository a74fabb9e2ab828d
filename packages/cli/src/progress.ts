/**
 * A one-line spinner on stderr for long waits — only on a terminal, never in pipes or logs.
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  private readonly enabled: boolean;
  private timer: NodeJS.Timeout | undefined;
  private text = '';
  private frame = 0;
  private shown = false;

  /** `quiet` (e.g. with --json) keeps it off even on a terminal. */
  constructor(quiet = false) {
    this.enabled = !quiet && Boolean(process.stdout.isTTY && process.stderr.isTTY);
  }

  /** Shows (or changes) the spinner's text. */
  update(text: string): void {
    if (!this.enabled) return;
    this.text = text;
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
    this.draw();
  }

  private draw(): void {
    const width = (process.stderr.columns ?? 80) - 1;
    process.stderr.write(`\r\u001b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.text}`.slice(0, width + 8));
    this.shown = true;
  }

  /** Removes the spinner line (before printing anything else, and when done). */
  clear(): void {
    if (!this.enabled) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) process.stderr.write('\r\u001b[2K');
    this.shown = false;
  }
}
