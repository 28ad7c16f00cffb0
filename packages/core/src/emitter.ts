/** An event of a discriminated union, keyed by `type`. */
export interface TypedEvent {
  readonly type: string;
}

/** A function told of one kind of event. */
export type Listener<E> = (event: E) => void;
/** Removes the listener it was returned for; calling it again does nothing. */
export type Unsubscribe = () => void;

/**
 * A small typed emitter for discriminated-union events. `on` returns the unsubscribe function.
 * A listener that throws does not stop the others: the error goes to `onListenerError`.
 */
export class TypedEmitter<E extends TypedEvent> {
  private readonly listeners = new Map<E['type'], Set<Listener<E>>>();

  constructor(private readonly onListenerError: (error: unknown, event: E) => void) {}

  on<T extends E['type']>(type: T, listener: Listener<Extract<E, { type: T }>>): Unsubscribe {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    // Wrap so one function subscribed twice is two subscriptions, each removed by its own unsubscribe.
    const entry = listener as Listener<E>;
    const wrapped: Listener<E> = (e) => entry(e);
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  /** How many listeners are subscribed to `type`, or to every type when omitted (for leak checks). */
  listenerCount(type?: E['type']): number {
    if (type !== undefined) return this.listeners.get(type)?.size ?? 0;
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  emit(event: E): void {
    const set = this.listeners.get(event.type);
    if (set === undefined || set.size === 0) return;
    for (const l of set) {
      try {
        l(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
