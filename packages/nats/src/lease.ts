import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, Listener, Unsubscribe } from '@feed/core';
import { FeedError, SystemClock, TypedEmitter } from '@feed/core';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

/** Options of `ConnectionLease.open`. */
export interface LeaseOptions {
  /** An open NATS connection (JetStream on). */
  readonly connection: NatsConnection;
  /**
   * What the lease is for: one per provider account (Alpaca allows one stream connection per
   * account). A name, never a key: `leaseAccount(keyId)` gives a digest of a key id.
   */
  readonly account: string;
  /** This program's name in the lease, seen by the others. @default `<host>:<pid>:<random>` */
  readonly holder?: string;
  /**
   * How long a lease lives without a renewal, in milliseconds: a standby takes over once the
   * holder's entry has not changed for this long. Renewed every third of it.
   * @default 5000
   */
  readonly ttlMs?: number;
  /** The key-value bucket (created when missing, history 1). @default 'feed' */
  readonly bucket?: string;
  /** Runs the renewals and the checks. @default new SystemClock() */
  readonly clock?: Clock;
}

/** Events of a lease. */
export type LeaseEvent =
  /** This program holds the lease (first, or after the holder went). */
  | { readonly type: 'acquired'; readonly holder: string; readonly revision: number }
  /** Another program holds it; this one waits (`holder`: who). Emitted when the holder changes. */
  | { readonly type: 'standby'; readonly holder: string }
  /** This program held the lease and no longer does: another took it, or a renewal failed past the TTL. */
  | { readonly type: 'lost'; readonly reason: string }
  | { readonly type: 'error'; readonly error: FeedError };

interface Entry {
  readonly holder: string;
  readonly ttlMs: number;
}

/** A digest of a provider key id (the first 16 hex digits of its SHA-256): an account name that reveals no key. */
export function leaseAccount(keyId: string): string {
  return createHash('sha256').update(keyId).digest('hex').slice(0, 16);
}

/**
 * One holder among several programs of the right to hold a provider connection (Alpaca allows one
 * stream connection per account): a key `lease.<account>` in a JetStream key-value bucket, written
 * only by compare-and-set. The holder renews it every `ttlMs / 3`; a standby watches it and takes
 * it (compare-and-set on the revision it saw) once it has not changed for `ttlMs` on the standby's
 * own clock, so the machines' clocks need not agree. A holder whose renewal is refused (another
 * took it) or fails for longer than `ttlMs` (NATS unreachable: a standby may have taken it) emits
 * `lost` and must let the connection go.
 */
export class ConnectionLease {
  readonly holder: string;
  readonly key: string;
  readonly ttlMs: number;
  readonly #kv: KV;
  readonly #clock: Clock;
  readonly #emitter = new TypedEmitter<LeaseEvent>((error) => {
    queueMicrotask(() => {
      throw error;
    });
  });
  /** The revision of the entry as this program last saw it, and when (its clock). */
  #seen: { revision: number; holder: string; at: number } | undefined;
  #revision: number | undefined;
  #lastRenewal = 0;
  #timer: (() => void) | undefined;
  #closed = false;
  #held: { promise: Promise<void>; resolve: () => void };
  #busy = false;
  #started = false;

  private constructor(kv: KV, options: LeaseOptions) {
    this.#kv = kv;
    this.#clock = options.clock ?? new SystemClock();
    this.ttlMs = options.ttlMs ?? 5_000;
    if (!(this.ttlMs >= 30)) throw new FeedError({ code: 'invalid_option', message: `ttlMs must be >= 30 (got ${this.ttlMs})` });
    if (!/^[-_=.a-zA-Z0-9]+$/.test(options.account)) throw new FeedError({ code: 'invalid_option', message: 'account must be letters, digits, -, _, = or . (a name, or leaseAccount(keyId))' });
    this.key = `lease.${options.account}`;
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#held = deferred();
  }

  /** Opens (or creates) the bucket; `start()` then competes for the lease. */
  static async open(options: LeaseOptions): Promise<ConnectionLease> {
    const kvm = new Kvm(options.connection);
    const kv = await kvm.create(options.bucket ?? 'feed', { history: 1 });
    return new ConnectionLease(kv, options);
  }

  /** Competes from now on: resolves after the first look, holding the lease or standing by (`held` says which). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#step();
  }

  on<T extends LeaseEvent['type']>(type: T, listener: Listener<Extract<LeaseEvent, { type: T }>>): Unsubscribe {
    return this.#emitter.on(type, listener);
  }

  /** Whether this program holds the lease now. */
  get held(): boolean {
    return this.#revision !== undefined;
  }

  /** Who holds it, as last seen (this program's name when it does). */
  get currentHolder(): string | undefined {
    return this.held ? this.holder : this.#seen?.holder;
  }

  /** Resolves once this program holds the lease (at once if it does). */
  whenHeld(): Promise<void> {
    return this.#held.promise;
  }

  /** Gives the lease up (a standby takes it at once, without waiting for the TTL) and stops competing. */
  async release(): Promise<void> {
    this.#closed = true;
    this.#timer?.();
    this.#timer = undefined;
    const revision = this.#revision;
    this.#revision = undefined;
    if (revision !== undefined) await this.#kv.delete(this.key, { previousSeq: revision }).catch(() => undefined);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimer(Math.max(10, Math.floor(this.ttlMs / 3)), () => {
      this.#timer = undefined;
      void this.#step();
    });
  }

  /** One round: renew when holding, else look and take it when free or stale. */
  async #step(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    try {
      if (this.#revision !== undefined) await this.#renew(this.#revision);
      else await this.#compete();
    } finally {
      this.#busy = false;
      if (this.#timer === undefined && !this.#closed) this.#schedule();
    }
  }

  #value(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ holder: this.holder, ttlMs: this.ttlMs } satisfies Entry));
  }

  async #renew(revision: number): Promise<void> {
    try {
      this.#revision = await this.#kv.update(this.key, this.#value(), revision);
      this.#lastRenewal = this.#clock.now();
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (/wrong last sequence|key exists/i.test(text)) this.#lose('another program took the lease');
      else if (this.#clock.now() - this.#lastRenewal >= this.ttlMs) this.#lose(`no renewal for ${this.ttlMs} ms (${text}): a standby may hold it`);
      else this.#report(`renewing the lease ${this.key}: ${text}`, error);
    }
  }

  async #compete(): Promise<void> {
    let entry;
    try {
      entry = await this.#kv.get(this.key);
    } catch (error) {
      this.#report(`reading the lease ${this.key}: ${error instanceof Error ? error.message : String(error)}`, error);
      return;
    }
    const now = this.#clock.now();
    const free = entry === null || entry.operation !== 'PUT';
    if (entry !== null && entry.operation === 'PUT') {
      const holder = readHolder(entry.value);
      if (this.#seen === undefined || this.#seen.revision !== entry.revision) {
        const changedHolder = this.#seen?.holder !== holder;
        this.#seen = { revision: entry.revision, holder, at: now };
        if (changedHolder) this.#emitter.emit({ type: 'standby', holder });
        return;
      }
      // Not renewed for a whole TTL, on this program's own clock: its holder is gone.
      if (now - this.#seen.at < this.ttlMs) return;
    }
    try {
      const revision = entry === null || free ? await this.#kv.create(this.key, this.#value()) : await this.#kv.update(this.key, this.#value(), entry.revision);
      this.#revision = revision;
      this.#lastRenewal = now;
      this.#seen = undefined;
      this.#emitter.emit({ type: 'acquired', holder: this.holder, revision });
      this.#held.resolve();
    } catch {
      // Another standby was faster: look again next round.
      this.#seen = undefined;
    }
  }

  #lose(reason: string): void {
    this.#revision = undefined;
    this.#seen = undefined;
    this.#held = deferred();
    this.#emitter.emit({ type: 'lost', reason });
  }

  #report(message: string, cause: unknown): void {
    this.#emitter.emit({ type: 'error', error: new FeedError({ code: 'connection', message, cause }) });
  }
}

function readHolder(value: Uint8Array): string {
  try {
    const v = JSON.parse(new TextDecoder().decode(value)) as Partial<Entry>;
    return typeof v.holder === 'string' ? v.holder : 'unknown';
  } catch {
    return 'unknown';
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
