import { ConfigError, invalidOption } from '@feed/core';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** An Alpaca key pair. */
export interface AlpacaKeys {
  readonly keyId: string;
  readonly secretKey: string;
}

/** The environment variables read for keys, in order: Alpaca's names, then the original design's. */
export const KEY_VARIABLES = [
  ['APCA_API_KEY_ID', 'APCA_API_SECRET_KEY'],
  ['ALPACA_PAPER_API_KEY', 'ALPACA_PAPER_SECRET_KEY'],
] as const;

/**
 * A key pair that never shows its values: `toString()`, `JSON.stringify` and `util.inspect` print
 * the key id's last four characters only, and nothing of the secret.
 */
export class Credentials {
  readonly #keyId: string;
  readonly #secretKey: string;

  constructor(keys: AlpacaKeys) {
    this.#keyId = keys.keyId;
    this.#secretKey = keys.secretKey;
  }

  get keyId(): string {
    return this.#keyId;
  }

  get secretKey(): string {
    return this.#secretKey;
  }

  /** Both values, for `redact()`. */
  secrets(): readonly string[] {
    return [this.#keyId, this.#secretKey];
  }

  toString(): string {
    return `Credentials(key ...${this.#keyId.slice(-4)}, secret [REDACTED])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [INSPECT](): string {
    return this.toString();
  }
}

/**
 * The keys from `keys`, or else from the environment (`APCA_API_KEY_ID` / `APCA_API_SECRET_KEY`, then
 * `ALPACA_PAPER_API_KEY` / `ALPACA_PAPER_SECRET_KEY`). Returns `undefined` when none are set; throws
 * a `ConfigError` naming the variable when only half of a pair is set.
 */
export function resolveCredentials(
  keys: AlpacaKeys | Credentials | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Credentials | undefined {
  if (keys instanceof Credentials) return keys;
  if (keys !== undefined) {
    if (!keys.keyId || !keys.secretKey) {
      throw invalidOption(keys.keyId ? 'keys.secretKey' : 'keys.keyId', 'must be a non-empty string', 'Alpaca keys need both keyId and secretKey');
    }
    return new Credentials(keys);
  }
  for (const [idVar, secretVar] of KEY_VARIABLES) {
    const keyId = env[idVar];
    const secretKey = env[secretVar];
    if (keyId && secretKey) return new Credentials({ keyId, secretKey });
    if (keyId || secretKey) {
      const missing = keyId ? secretVar : idVar;
      throw new ConfigError({ code: 'invalid_option', message: `${missing} is not set (its pair is)`, issues: [{ path: missing, message: 'is not set' }], source: 'environment' });
    }
  }
  return undefined;
}

/** The message a program prints when no keys are set. */
export function missingKeysMessage(): string {
  return `no Alpaca keys: set ${KEY_VARIABLES[0][0]} and ${KEY_VARIABLES[0][1]} (or ${KEY_VARIABLES[1][0]} and ${KEY_VARIABLES[1][1]})`;
}
