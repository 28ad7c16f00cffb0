/** What both benchmarks of this package share: the server worker, its messages, medians and formatting. */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** The next message of `type` from the worker. */
export async function nextMessage<T>(worker: Worker, type: string): Promise<T> {
  for (;;) {
    const [m] = (await once(worker, 'message')) as [{ type: string }];
    if (m.type === type) return m as T;
  }
}

/** The fake server in a worker thread (Alpaca is another machine: its sending is not our cost). */
export function serverWorker(): Worker {
  // The worker loads TypeScript through tsx's API (Node 20 ignores --import in a worker's execArgv).
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./server-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
}
