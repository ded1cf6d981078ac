/**
 * Map `source` through `fn` with up to `limit` calls in flight, yielding results in the
 * source's order (a read-ahead: file reads overlap while the consumer writes in order).
 * The source is pulled at most `limit` items ahead of the consumer.
 * @throws the first error of `fn` or of the source, in order.
 */
export async function* mapOrdered<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const it =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]();
  const queue: Promise<R>[] = [];
  let done = false;
  try {
    for (;;) {
      while (!done && queue.length < limit) {
        const r = await it.next();
        if (r.done) {
          done = true;
          break;
        }
        const p = fn(r.value);
        p.catch(() => {}); // awaited below, in order
        queue.push(p);
      }
      const next = queue.shift();
      if (next === undefined) return;
      yield await next;
    }
  } finally {
    if (!done) await it.return?.();
  }
}
