/**
 * Run `fn` over the items of an (async) iterable with at most `limit` calls
 * in flight. Items are pulled only when a slot is free, so a lazy source
 * (a file read piece by piece) stays bounded in memory. The first error
 * stops pulling and is thrown once every running call has settled.
 */
export async function forEachConcurrent<T> (
  source: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal
): Promise<void> {
  const iterator = (Symbol.asyncIterator in source)
    ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (source as Iterable<T>)[Symbol.iterator]() as unknown as AsyncIterator<T>
  let failure: { err: unknown } | undefined
  let pulling = Promise.resolve()
  const next = async (): Promise<IteratorResult<T>> => {
    // pulls are serialized: async generators do not like concurrent next()
    const result = pulling.then(async () => iterator.next())
    pulling = result.then(() => {}, () => {})
    return result
  }
  const worker = async (): Promise<void> => {
    while (failure == null) {
      if (signal?.aborted === true) {
        failure ??= { err: signal.reason }
        return
      }
      let result: IteratorResult<T>
      try {
        result = await next()
      } catch (err) {
        failure ??= { err }
        return
      }
      if (result.done === true) return
      try {
        await fn(result.value)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker))
  if (failure != null) {
    await iterator.return?.()
    throw failure.err
  }
}

/** Resolve after `ms`, or reject when the signal aborts. */
export async function delay (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * At most `size` holders at once: `acquire` waits for a free slot,
 * `release` hands it to the next waiter.
 */
export class Semaphore {
  private active = 0
  private readonly waiters: Array<() => void> = []

  constructor (private readonly size: number) {}

  async acquire (signal?: AbortSignal): Promise<void> {
    while (this.active >= this.size) {
      signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
        const onAbort = (): void => {
          const i = this.waiters.indexOf(wake)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(signal?.reason)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        this.waiters.push(wake)
      })
    }
    this.active++
  }

  release (): void {
    this.active--
    this.waiters.shift()?.()
  }

  /** Run `fn` holding a slot. */
  async run<T> (fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal)
    try {
      return await fn()
    } finally {
      this.release()
    }
  }
}

/** One at a time: `run` waits for the work before it to end. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  async run<T> (fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.catch(() => {})
    return result
  }
}

/**
 * At most `size` units (bytes, most often) held at once, each holder
 * taking its own weight; one holder heavier than the whole budget is let
 * in alone. Waiters are let in in the order they came.
 */
export class Budget {
  private used = 0
  private readonly waiters: Array<{ weight: number, wake: () => void }> = []

  constructor (private readonly size: number) {}

  async acquire (weight: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (this.waiters.length === 0 && this.fits(weight)) {
      this.used += weight
      return
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = { weight, wake: () => { signal?.removeEventListener('abort', onAbort); resolve() } }
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(signal?.reason)
        this.admit()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  release (weight: number): void {
    this.used -= weight
    this.admit()
  }

  private fits (weight: number): boolean {
    return this.used === 0 || this.used + weight <= this.size
  }

  private admit (): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0].weight)) {
      const waiter = this.waiters.shift() as { weight: number, wake: () => void }
      this.used += waiter.weight
      waiter.wake()
    }
  }
}
