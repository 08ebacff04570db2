/**
 * A small pool of worker threads (piscina) for the CPU- and call-heavy
 * part of per-file work: a put hands each small file to a worker that
 * reads it, names it, compresses and seals it; a restore hands each small
 * file, with its sealed blobs, to a worker that opens, decompresses and
 * writes it with blocking calls. The daemon's main thread keeps the
 * network, the trees, the index and the order of work; workers start when
 * first needed and end when idle.
 */
import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import * as errors from '../errors.js'
import type { BlobTask, RestoreFileTask, SealFileTask, SealedFile, TaskError, TaskResult } from './tasks.js'
import type { WorkerData } from './worker.js'

export type { RestoreFileTask, SealFileTask, SealedFile, SealedPiece } from './tasks.js'

/** Idle workers end after this long (ms). */
const IDLE_TIMEOUT_MS = 10_000
/**
 * Tasks are sent to a worker in batches of at most this many, or this many
 * bytes, or what came in the same turn of the event loop: a message to a
 * worker and its answer cost tens of microseconds (measured: the pool's
 * bookkeeping of one task per small file took a second of the main
 * thread's time in a 10,000-file restore), a small file's work not much
 * more.
 */
const BATCH_TASKS = 32
const BATCH_BYTES = 2 * 1024 * 1024

interface Batch {
  tasks: BlobTask[]
  waiters: Array<{ resolve: (value: any) => void, reject: (err: Error) => void }>
  bytes: number
  transferList: ArrayBuffer[]
}

export interface BlobWorkersComponents {
  /** The node's data secret: a worker opens blobs with the same keys as the node */
  dataSecret: Uint8Array
}

export interface BlobWorkersInit {
  /** Worker threads at most (default: one less than the cores, two to four: a thread blocked in a slow file call leaves the other working) */
  threads?: number
}

export class BlobWorkers {
  private readonly pool: Piscina
  private batch?: Batch

  constructor (components: BlobWorkersComponents, init: BlobWorkersInit = {}) {
    const workerData: WorkerData = { dataSecret: components.dataSecret }
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      workerData,
      minThreads: 0,
      maxThreads: init.threads ?? Math.min(4, Math.max(2, availableParallelism() - 1)),
      idleTimeout: IDLE_TIMEOUT_MS,
      atomics: 'disabled',
      recordTiming: false
    })
  }

  /**
   * Restore one file (see RestoreFileTask); its plaintext length. Each
   * piece's bytes are moved to the worker: they must not share a buffer
   * with anything else, and are unusable here afterwards.
   */
  async restoreFile (task: Omit<RestoreFileTask, 'kind'>): Promise<number> {
    const pieces = task.pieces.map(p => p.sealed)
    return this.submit({ kind: 'restore-file', ...task }, pieces.reduce((sum, p) => sum + p.byteLength, 0), pieces.map(p => p.buffer as ArrayBuffer))
  }

  /** Read, name, compress and seal one small file (see SealFileTask). */
  async sealFile (task: Omit<SealFileTask, 'kind'>, size: number): Promise<SealedFile> {
    return this.submit({ kind: 'seal-file', ...task }, size, [])
  }

  /** Add a task to the batch being filled; sent when full, or at the end of this turn of the event loop. */
  private async submit<T> (task: BlobTask, bytes: number, transferList: ArrayBuffer[]): Promise<T> {
    return new Promise((resolve, reject) => {
      let batch = this.batch
      if (batch == null) {
        const fresh: Batch = { tasks: [], waiters: [], bytes: 0, transferList: [] }
        batch = this.batch = fresh
        setImmediate(() => { if (this.batch === fresh) this.flush() })
      }
      batch.tasks.push(task)
      batch.waiters.push({ resolve, reject })
      batch.bytes += bytes
      batch.transferList.push(...transferList)
      if (batch.tasks.length >= BATCH_TASKS || batch.bytes >= BATCH_BYTES) this.flush()
    })
  }

  private flush (): void {
    const batch = this.batch
    if (batch == null) return
    this.batch = undefined
    this.pool.run(batch.tasks, { transferList: batch.transferList }).then((results: TaskResult[]) => {
      results.forEach((result, i) => {
        if (result.ok) batch.waiters[i].resolve(result.value)
        else batch.waiters[i].reject(revive(result.error))
      })
    }, (err: Error) => {
      for (const waiter of batch.waiters) waiter.reject(err)
    })
  }

  async stop (): Promise<void> {
    await this.pool.destroy()
  }
}

/** The error a worker reported, as the class it was (backpack's by name, a system error with its code). */
function revive (error: TaskError): Error {
  const known = (errors as Record<string, unknown>)[error.name]
  const backpack = typeof known === 'function' && (known === errors.BackpackError || known.prototype instanceof errors.BackpackError)
  const err: NodeJS.ErrnoException = backpack ? new (known as typeof errors.BackpackError)(error.message) : new Error(error.message)
  if (!backpack) err.name = error.name
  if (error.code != null) err.code = error.code
  return err
}
