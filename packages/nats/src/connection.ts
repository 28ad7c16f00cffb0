import type { Clock } from '@feed/core';
import { ConnectionError, SystemClock, redact, sleep } from '@feed/core';
import type { NatsConnection } from '@nats-io/nats-core';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';

/**
 * How to reach NATS: every option of the official client passes through (`servers`, `user` / `pass`,
 * `token`, an `authenticator` for NKeys or a `.creds` file, `tls` with a CA and a client
 * certificate, `name`, reconnect settings), plus how often to try the first connection.
 */
export interface NatsConnectOptions extends NodeConnectionOptions {
  /**
   * Attempts of the first connection before `ConnectionError` (reconnects after it are the client's).
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Wait between first-connection attempts, in milliseconds (doubling).
   * @default 500
   */
  readonly retryDelayMs?: number;
  /** Runs the waits between attempts. @default new SystemClock() */
  readonly clock?: Clock;
}

/** The secrets of a connection's options, to remove from anything shown. */
function secretsOf(o: NodeConnectionOptions): string[] {
  const out: string[] = [];
  for (const v of [o.pass, o.token, o.user]) if (typeof v === 'string' && v.length > 0) out.push(v);
  return out;
}

/**
 * Connects to NATS, retrying the first connection; reconnects forever after it (the client's
 * `maxReconnectAttempts: -1` unless given). A server that stays unreachable, or refuses the
 * credentials, is a `ConnectionError` whose message names the servers and the reason, never a secret.
 */
export async function connectNats(options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const { attempts = 3, retryDelayMs = 500, clock = new SystemClock(), ...client } = options;
  const secrets = secretsOf(client);
  let delay = retryDelayMs;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await connect({ maxReconnectAttempts: -1, ...client });
    } catch (error) {
      last = error;
      // Refused credentials do not get better with time.
      if (/authorization|authentication|permission/i.test(String(error))) break;
      if (attempt < attempts) {
        await sleep(clock, delay);
        delay *= 2;
      }
    }
  }
  const servers = [client.servers ?? '127.0.0.1:4222'].flat().join(', ');
  const reason = last instanceof Error ? last.message : String(last);
  throw new ConnectionError({ message: redact(`cannot connect to NATS at ${servers}: ${reason}`, secrets), detail: { servers } });
}
