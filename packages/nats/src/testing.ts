/**
 * Bars on NATS JetStream for feed: a publisher that puts any BarFeed's bars on a stream, and NatsBarFeed, a BarFeed that reads them live or replays a stored range, resuming where a program stopped.
 * @module @feed/nats/testing
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock, sleep } from '@feed/core';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

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

/**
 * `n` distinct free loopback ports: all held open until all are chosen (so that none is handed out
 * twice), then released for the servers to bind. Another process may still take one in between:
 * starts that chose their ports retry on "address already in use" (`startRetrying`).
 */
async function freePorts(n: number): Promise<number[]> {
  const held = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    ports.push((s.address() as { port: number }).port);
    held.push(s);
  }
  for (const s of held) await new Promise<void>((resolve) => s.close(() => resolve()));
  return ports;
}

/** Runs `start` again (up to 3 times in all) when a port it chose was taken before it could bind it. */
async function startRetrying<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('address already in use')) throw error;
    }
  }
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

  /**
   * Starts one; `config` is a server configuration file's text (authorization, TLS, a cluster);
   * `port` a client port chosen beforehand (a free one by default).
   */
  static async start(options: { config?: string; binary?: string; port?: number } = {}): Promise<NatsServer> {
    const binary = options.binary ?? findNatsServer();
    if (binary === undefined) throw new Error('nats-server is not installed (Debian package nats-server)');
    const store = mkdtempSync(join(tmpdir(), 'feed-nats-'));
    let config: string | undefined;
    if (options.config !== undefined) {
      config = join(store, 'server.conf');
      writeFileSync(config, options.config);
    }
    if (options.port !== undefined) {
      const s = new NatsServer(binary, options.port, store, config);
      await s.#launch();
      return s;
    }
    return startRetrying(async () => {
      const [port] = (await freePorts(1)) as [number];
      const s = new NatsServer(binary, port, store, config);
      await s.#launch();
      return s;
    });
  }

  /** Whether its process runs (false after `kill9()` until `restart()`). */
  get running(): boolean {
    return this.#proc !== undefined;
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

/**
 * For tests: a real JetStream cluster of `size` (3) `nats-server` processes on loopback, each with
 * its store, joined by routes; `start()` resolves once JetStream has a meta leader (streams can be
 * made). Each server is a `NatsServer` (`kill9()`, `restart()` on the same port and store), named
 * `n1`, `n2`, ... as the cluster reports leaders and replicas.
 */
export class NatsCluster {
  private constructor(
    readonly servers: readonly NatsServer[],
    readonly names: readonly string[],
  ) {}

  static async start(options: { size?: number; binary?: string; name?: string } = {}): Promise<NatsCluster> {
    return startRetrying(() => NatsCluster.#startOnce(options));
  }

  static async #startOnce(options: { size?: number; binary?: string; name?: string }): Promise<NatsCluster> {
    const size = options.size ?? 3;
    const ports = await freePorts(2 * size);
    const clientPorts = ports.slice(0, size);
    const routePorts = ports.slice(size);
    const names = clientPorts.map((_, i) => `n${i + 1}`);
    const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
    const servers: NatsServer[] = [];
    try {
      // All at once: each waits for its routes, and the meta group needs a majority.
      const started = await Promise.allSettled(
        names.map((name, i) =>
          NatsServer.start({
            ...(options.binary === undefined ? {} : { binary: options.binary }),
            port: clientPorts[i] as number,
            config: `server_name: ${name}\ncluster {\n  name: ${options.name ?? 'feed'}\n  listen: 127.0.0.1:${routePorts[i] as number}\n  routes: [${routes}]\n}\n`,
          }),
        ),
      );
      // The servers that did start are stopped below if another did not (none left running).
      for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const cluster = new NatsCluster(servers, names);
      await cluster.waitForJetStream();
      return cluster;
    } catch (error) {
      for (const s of servers) await s.stop();
      throw error;
    }
  }

  /** Every server's URL (give them all to a client: it fails over). */
  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  /** The server of a name the cluster reports (`n1`, ...). */
  server(name: string): NatsServer {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`no server named ${name} in the cluster (${this.names.join(', ')})`);
    return this.servers[i] as NatsServer;
  }

  /**
   * Resolves once JetStream can place a stream on every server (a meta leader elected and every
   * peer known to it: a probe stream at as many replicas as servers is made and removed), within `timeoutMs`.
   */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const replicas = this.servers.filter((s) => s.running).length;
    await this.#poll(timeoutMs, `JetStream to place a stream on ${replicas} servers`, async (nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'FEED_CLUSTER_PROBE', subjects: ['feed.cluster.probe'], num_replicas: replicas, storage: 'memory' });
      await jsm.streams.delete('FEED_CLUSTER_PROBE');
      return true;
    });
  }

  /** The name of `stream`'s leader now. */
  async leaderOf(stream: string): Promise<string> {
    let leader = '';
    await this.#poll(30_000, `a leader of stream ${stream}`, async (nc) => {
      leader = (await (await jetstreamManager(nc)).streams.info(stream)).cluster?.leader ?? '';
      return leader !== '';
    });
    return leader;
  }

  /** Resolves once every replica of `stream` is current (a restarted server has caught up), within `timeoutMs`. */
  async waitForReplicas(stream: string, timeoutMs = 30_000): Promise<void> {
    await this.#poll(timeoutMs, `every replica of ${stream} to be current`, async (nc) => {
      const c = (await (await jetstreamManager(nc)).streams.info(stream)).cluster;
      return c !== undefined && (c.replicas ?? []).length === this.servers.length - 1 && (c.replicas ?? []).every((r) => r.current && !r.offline && (r.lag ?? 0) === 0);
    });
  }

  /** Polls `check` through a connection to the running servers until it returns true (I/O with a real cluster: the only wait is for it). */
  async #poll(timeoutMs: number, what: string, check: (nc: NatsConnection) => Promise<boolean>): Promise<void> {
    const clock = new SystemClock();
    const deadline = clock.now() + timeoutMs;
    let last: unknown;
    while (clock.now() < deadline) {
      let nc: NatsConnection | undefined;
      try {
        nc = await connect({ servers: this.servers.filter((s) => s.running).map((s) => s.url), timeout: 2_000 });
        if (await check(nc)) return;
      } catch (error) {
        last = error;
      } finally {
        await nc?.close();
      }
      await sleep(clock, 100);
    }
    throw new Error(`the cluster did not get ${what} within ${timeoutMs} ms${last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`);
  }

  /** Stops every server and removes their stores. */
  async stop(): Promise<void> {
    for (const s of this.servers) await s.stop();
  }
}
