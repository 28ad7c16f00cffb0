/** An event of a discriminated union, keyed by `type`. */
export interface TypedEvent {
  readonly type: string;
}

/** A function told of one kind of event. */
export type Listener<E> = (event: E) => void;
/** Removes the listener it was returned for; calling it again does nothing. */
export type Unsubscribe = () => void;

/**
 * One subscription: its listener, and whether it is still subscribed (false once unsubscribed, also
 * in an array taken before: a loop over it checks this at each call, as `emit` does).
 */
export interface Subscription<E> {
  readonly fn: Listener<E>;
  readonly active: boolean;
}

/** No subscriptions (shared, frozen). */
const EMPTY: readonly never[] = Object.freeze([]);

/** The emitter's own record of a subscription. */
interface Sub<E> extends Subscription<E> {
  active: boolean;
}

/**
 * A small typed emitter for discriminated-union events. `on` returns the unsubscribe function.
 * A listener that throws does not stop the others: the error goes to `onListenerError`.
 *
 * The listeners of a type are an array replaced on every change (copy-on-write), so that an emit
 * is a loop over an array: no iterator, no closure around each listener. A listener unsubscribed
 * during an emit is not called by it; one subscribed during an emit hears the next event.
 */
export class TypedEmitter<E extends TypedEvent> {
  private readonly listeners = new Map<E['type'], readonly Sub<E>[]>();

  constructor(private readonly onListenerError: (error: unknown, event: E) => void) {}

  on<T extends E['type']>(type: T, listener: Listener<Extract<E, { type: T }>>): Unsubscribe {
    // One object per subscription: one function subscribed twice is two subscriptions, each removed by its own unsubscribe.
    const sub: Sub<E> = { fn: listener as Listener<E>, active: true };
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), sub]);
    return () => {
      if (!sub.active) return;
      sub.active = false;
      const rest = (this.listeners.get(type) ?? []).filter((s) => s !== sub);
      if (rest.length === 0) this.listeners.delete(type);
      else this.listeners.set(type, rest);
    };
  }

  /** How many listeners are subscribed to `type`, or to every type when omitted (for leak checks). */
  listenerCount(type?: E['type']): number {
    if (type !== undefined) return this.listeners.get(type)?.length ?? 0;
    let n = 0;
    for (const list of this.listeners.values()) n += list.length;
    return n;
  }

  /**
   * The subscriptions of `type` at this moment, in order (empty when none). The array is never
   * changed: each subscribe, unsubscribe or `clear` replaces it, so take it again after one. For an owner
   * that delivers one type often with a loop of its own (skipping inactive subscriptions, sending a
   * throw where its error handler goes): that loop's call site sees only this type's listeners, and
   * the compiler can inline one, where `emit`'s single call site sees every emitter's listeners.
   */
  subscriptions<T extends E['type']>(type: T): readonly Subscription<Extract<E, { type: T }>>[] {
    return this.listeners.get(type) ?? EMPTY;
  }

  emit(event: E): void {
    const list = this.listeners.get(event.type);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const sub = list[i] as Sub<E>;
      if (!sub.active) continue;
      try {
        sub.fn(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  clear(): void {
    for (const list of this.listeners.values()) for (const sub of list) sub.active = false;
    this.listeners.clear();
  }
}
