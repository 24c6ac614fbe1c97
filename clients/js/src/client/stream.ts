// An async iterator fed by pushes: what subscriptions and status() hand out.

/** A queue that is also an AsyncIterableIterator; `end` finishes it (with an error or not). */
export class PushStream<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private ended = false;
  private failure: unknown = undefined;

  constructor(private readonly limit = Infinity, private readonly onReturn?: () => void) {}

  /** Adds an item; false when the stream holds `limit` items already (the item is dropped). */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.waiting) {
      const waiter = this.waiting;
      this.waiting = null;
      waiter.resolve({ value: item, done: false });
      return true;
    }
    if (this.items.length - this.head >= this.limit) return false;
    this.items.push(item);
    return true;
  }

  /** Ends the stream: items already in are still read, then it ends or throws `error`. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.waiting) {
      const waiter = this.waiting;
      this.waiting = null;
      if (error !== undefined) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Items waiting to be read. */
  get size(): number {
    return this.items.length - this.head;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++];
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) {
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiting) return Promise.reject(new Error("next() called again before the last one settled"));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.onReturn?.();
    this.end();
    this.items = [];
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
