import type { ServerResponse } from 'node:http';

/** Resolves when `res` can take more, or is gone. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Runs steps one after another, at most `budgetMs` of them per iteration of the event loop,
 * in arrival order: what keeps many replays from running back to back in one iteration (a
 * memory store answers without I/O, so a replay's awaits alone would never let a request in)
 * while they still use the time the loop has.
 */
export class LoopBudget {
  private queue: Array<() => Promise<void>> = [];
  private head = 0;
  private running = false;

  constructor(private readonly budgetMs: number) {}

  run<T>(step: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => step().then(resolve, reject));
      if (!this.running) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.head < this.queue.length) {
      await new Promise((r) => setImmediate(r));
      const end = performance.now() + this.budgetMs;
      while (this.head < this.queue.length && performance.now() < end) {
        const step = this.queue[this.head++];
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        await step();
      }
    }
    this.queue = [];
    this.head = 0;
    this.running = false;
  }
}
