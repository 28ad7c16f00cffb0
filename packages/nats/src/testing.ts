import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * For tests: a real `nats-server` (JetStream) on a free loopback port with a store of its own.
 * `@feed/nats/testing`, as `@feed/alpaca/testing` has its fake server.
 */

/** The `nats-server` binary (Debian package `nats-server`) on this machine, or undefined. */
export function findNatsServer(): string | undefined {
  return ['nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
    (bin) => spawnSync(bin, ['--version'], { encoding: 'utf8' }).status === 0,
  );
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A real nats-server with JetStream on a free loopback port and a store of its own; `kill9` and `restart` keep the store. */
export class NatsServer {
  #proc: ChildProcess | undefined;
  private constructor(
    private readonly binary: string,
    readonly port: number,
    readonly store: string,
    private readonly config: string | undefined,
  ) {}

  /** Starts one; `config` is a server configuration file's text (authorization, TLS). */
  static async start(options: { config?: string; binary?: string } = {}): Promise<NatsServer> {
    const binary = options.binary ?? findNatsServer();
    if (binary === undefined) throw new Error('nats-server is not installed (Debian package nats-server)');
    const store = mkdtempSync(join(tmpdir(), 'feed-nats-'));
    let config: string | undefined;
    if (options.config !== undefined) {
      config = join(store, 'server.conf');
      writeFileSync(config, options.config);
    }
    const s = new NatsServer(binary, await freePort(), store, config);
    await s.#launch();
    return s;
  }

  /** `nats://127.0.0.1:<port>` (`tls://` when its configuration turns TLS on). */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Where its configuration and JetStream store live (removed by `stop()`). */
  get directory(): string {
    return this.store;
  }

  async #launch(): Promise<void> {
    const args = ['-js', '-sd', join(this.store, 'js'), '-a', '127.0.0.1', '-p', String(this.port)];
    if (this.config !== undefined) args.push('-c', this.config);
    const proc = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#proc = proc;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      proc.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('Server is ready')) resolve();
      });
      proc.on('exit', (code) => reject(new Error(`nats-server exited (${code}): ${log}`)));
    });
  }

  /** `kill -9`: no clean shutdown (the store stays). */
  async kill9(): Promise<void> {
    const p = this.#proc;
    if (p === undefined) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGKILL');
    await exited;
    this.#proc = undefined;
  }

  /** Starts again on the same port and store. */
  async restart(): Promise<void> {
    await this.#launch();
  }

  /** Stops it and removes its store. */
  async stop(): Promise<void> {
    const p = this.#proc;
    if (p !== undefined) {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      await exited;
    }
    this.#proc = undefined;
    rmSync(this.store, { recursive: true, force: true });
  }
}
