import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { BadHashError } from '../errors.js'
import { DataCipher, DecryptError } from './cipher.js'
import { cidChecker, cidOfParts, matchesCid } from './index.js'
import type { PieceOpener } from './cipher.js'
import type { Job, JobResult } from './crypto-worker.js'

/** @default the cores of the machine, at most 4 */
export const DEFAULT_CRYPTO_WORKERS = Math.max(1, Math.min(4, availableParallelism()))

/** A buffer smaller than this is copied, not transferred (it may share Node's pool). */
const MIN_TRANSFER_BYTES = 64 * 1024

interface Pending {
  resolve: (result: JobResult) => void
  reject: (err: Error) => void
}

/**
 * Seals pieces and opens chunks, on the calling thread (size 0, the
 * daemon's default: a worker made puts about 8 % faster on two cores but
 * the owner 40-60 MiB larger) or in worker threads, so hashing and
 * encryption run beside the network work of the main thread. Bytes move to
 * workers as transferred ArrayBuffers, not copies; a buffer handed in must
 * not be used by the caller afterwards.
 */
export class CryptoPool {
  private readonly workers: Worker[] = []
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private nextWorker = 0
  /** With no workers, the work runs inline on the calling thread */
  private readonly inline?: DataCipher

  private readonly dataSecret: Uint8Array
  private readonly size: number
  private stopped = false

  constructor (dataSecret: Uint8Array, size = DEFAULT_CRYPTO_WORKERS) {
    this.dataSecret = dataSecret
    this.size = size
    if (size === 0) this.inline = new DataCipher(dataSecret)
  }

  /**
   * The workers, started on first use: a node that only holds chunks for
   * others never seals or opens one, and a worker costs about 10 MiB.
   */
  private worker (): Worker {
    if (this.stopped) throw new Error('the crypto pool stopped')
    while (this.workers.length < this.size) this.workers.push(this.spawn(this.workers.length))
    return this.workers[this.nextWorker++ % this.workers.length]
  }

  /** Chunks open piece by piece as they arrive (`opener`): crypto on this thread. */
  get opensPieces (): boolean {
    return this.inline != null
  }

  /** Workers running now (none before the first seal or open). */
  get running (): number {
    return this.workers.length
  }

  /** A worker for slot `i`; one that dies is replaced, and the jobs in flight fail. */
  private spawn (i: number): Worker {
    const worker = new Worker(new URL('./crypto-worker.js', import.meta.url), { workerData: { dataSecret: this.dataSecret } })
    worker.on('message', (result: JobResult) => {
      const pending = this.pending.get(result.id)
      this.pending.delete(result.id)
      pending?.resolve(result)
    })
    worker.on('error', err => { this.failAll(err) })
    worker.on('exit', code => {
      if (this.stopped) return
      this.failAll(new Error(`a crypto worker exited with code ${code}`))
      this.workers[i] = this.spawn(i)
    })
    worker.unref()
    return worker
  }

  private failAll (err: Error): void {
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  async stop (): Promise<void> {
    this.stopped = true
    await Promise.all(this.workers.map(async w => w.terminate()))
    this.workers.length = 0
    this.failAll(new Error('the crypto pool stopped'))
  }

  private async run (job: Omit<Job, 'id' | 'buffer' | 'offset' | 'length'>, bytes: Uint8Array): Promise<JobResult> {
    const id = this.nextId++
    let view = bytes
    const whole = view.byteLength >= MIN_TRANSFER_BYTES && view.buffer.byteLength <= view.byteLength + MIN_TRANSFER_BYTES && !(view.buffer instanceof SharedArrayBuffer)
    if (!whole) view = new Uint8Array(view)
    const worker = this.worker()
    const result = await new Promise<JobResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ ...job, id, buffer: view.buffer, offset: view.byteOffset, length: view.byteLength }, [view.buffer as ArrayBuffer])
    })
    if (result.error != null) {
      if (result.error.name === 'BadHashError') throw new BadHashError(result.error.message)
      if (result.error.name === 'DecryptError') throw new DecryptError(result.error.message)
      throw new Error(result.error.message)
    }
    return result
  }

  /**
   * Seal a piece: its sealed bytes (on this thread as their parts, not
   * joined; from a worker as one buffer) and their CID. `plain` is handed
   * over; its whole buffer comes back as `spare`, free for the next piece.
   */
  async seal (plain: Uint8Array): Promise<{ sealed: Uint8Array | Uint8ArrayList, cid: CID, spare?: ArrayBuffer }> {
    if (this.inline != null) {
      // its parts, not joined: sent as they are
      const parts = this.inline.sealParts(plain)
      return { sealed: new Uint8ArrayList(...parts), cid: cidOfParts(parts), spare: plain.buffer as ArrayBuffer }
    }
    const result = await this.run({ op: 'seal' }, plain)
    return { sealed: new Uint8Array(result.buffer as ArrayBuffer, 0, result.length), cid: CID.decode(result.cid as Uint8Array), spare: result.spare }
  }

  /** Check sealed bytes against their CID and open them. `sealed` is handed over. */
  async open (sealed: Uint8Array, cid: CID): Promise<Uint8Array> {
    if (this.inline != null) {
      if (!matchesCid(cid, sealed)) throw new BadHashError(`bytes do not match ${cid}`)
      return this.inline.open(sealed)
    }
    const result = await this.run({ op: 'open', cid: cid.toString() } as Omit<Job, 'id' | 'buffer' | 'offset' | 'length'>, sealed)
    return new Uint8Array(result.buffer as ArrayBuffer, 0, result.length)
  }

  /**
   * Check and open a chunk of `sealedLength` bytes piece by piece as it
   * arrives, on this thread: `final` throws BadHashError or DecryptError
   * unless the whole chunk was good. Only without crypto workers, which
   * take whole chunks (`open`).
   */
  opener (cid: CID, sealedLength: number): PieceOpener {
    if (this.inline == null) throw new Error('crypto workers open whole chunks')
    const open = this.inline.opener(sealedLength)
    const hash = cidChecker(cid)
    return {
      update: piece => {
        hash.update(piece)
        return open.update(piece)
      },
      final: () => {
        if (!hash.matches()) throw new BadHashError(`bytes do not match ${cid}`)
        open.final()
      }
    }
  }
}
