import { cidOfParts } from '../chunking/index.js'
import { Semaphore } from '../util/concurrency.js'
import type { SealedBlob } from './blobs.js'
import type { BlobKind } from '../catalog/catalog.js'
import type { BlobRef } from '../catalog/pb/snapshot.js'
import type { CID } from 'multiformats/cid'

/** A pack that is full: its CID and its blobs, to be placed on peers. */
export interface FinishedPack {
  cid: CID
  kind: BlobKind
  parts: Uint8Array[]
  size: number
  blobs: Array<{ id: Uint8Array, ref: BlobRef, plain?: Uint8Array }>
}

export interface PackerInit {
  kind: BlobKind
  /** A pack is closed once it holds this many bytes; a blob of a quarter as many or more gets a pack of its own (so a large file's chunks never share a pack with small files that outlive it) */
  targetBytes: number
  /** Packs being placed at once; `add` waits while this many are */
  inFlight: number
  /** Place a finished pack (and record it); a failure fails the put */
  upload: (pack: FinishedPack) => Promise<void>
}

interface Open {
  parts: Uint8Array[]
  size: number
  blobs: Array<{ blob: SealedBlob, offset: number, plain?: Uint8Array, resolve: (ref: BlobRef) => void }>
}

/**
 * Packs small blobs into chunks of about `targetBytes` (as restic packs
 * blobs), so many small files cost a few chunks and their requests instead
 * of one each. A blob's place (pack CID and offset) is known once its pack
 * is closed: `add` resolves then, and the pack goes on to be placed in the
 * background, a bounded number at a time.
 */
export class Packer {
  private open: Open = { parts: [], size: 0, blobs: [] }
  private readonly slots: Semaphore
  private readonly uploads = new Set<Promise<void>>()
  private failure?: { err: unknown }

  constructor (private readonly init: PackerInit) {
    this.slots = new Semaphore(init.inFlight)
  }

  /**
   * Add a sealed blob (`plain` is kept with it until its pack is placed,
   * for trees the owner caches). Resolves once the blob is taken (a pack it
   * filled may have had to wait for a free slot) with `ref`, which resolves
   * with the blob's place once its pack is closed: at once for a large
   * blob, else when the pack fills or at `flush`.
   */
  async add (blob: SealedBlob, plain?: Uint8Array, signal?: AbortSignal): Promise<{ ref: Promise<BlobRef> }> {
    this.throwIfFailed()
    if (blob.length * 4 >= this.init.targetBytes) {
      const alone: Open = { parts: [], size: 0, blobs: [] }
      const ref = this.append(alone, blob, plain)
      await this.close(alone, signal)
      return { ref }
    }
    const ref = this.append(this.open, blob, plain)
    if (this.open.size >= this.init.targetBytes) {
      const full = this.open
      this.open = { parts: [], size: 0, blobs: [] }
      await this.close(full, signal)
    }
    return { ref }
  }

  /** Close the open pack and wait until every pack is placed; throws the first failure. */
  async flush (signal?: AbortSignal): Promise<void> {
    if (this.open.blobs.length > 0) {
      const last = this.open
      this.open = { parts: [], size: 0, blobs: [] }
      await this.close(last, signal)
    }
    while (this.uploads.size > 0) await Promise.allSettled([...this.uploads])
    this.throwIfFailed()
  }

  private throwIfFailed (): void {
    if (this.failure != null) throw this.failure.err
  }

  private async append (pack: Open, blob: SealedBlob, plain?: Uint8Array): Promise<BlobRef> {
    return new Promise(resolve => {
      pack.blobs.push({ blob, offset: pack.size, plain, resolve })
      pack.parts.push(...blob.parts)
      pack.size += blob.length
    })
  }

  /** Name the pack, tell its blobs where they are, and place it once a slot is free. */
  private async close (pack: Open, signal?: AbortSignal): Promise<void> {
    const cid = cidOfParts(pack.parts)
    const blobs = pack.blobs.map(({ blob, offset, plain, resolve }) => {
      const ref: BlobRef = { id: blob.id, pack: cid.bytes, offset, length: blob.length, plainLength: blob.plainLength, compressed: blob.compressed }
      resolve(ref)
      return { id: blob.id, ref, plain }
    })
    await this.slots.acquire(signal)
    const upload = this.init.upload({ cid, kind: this.init.kind, parts: pack.parts, size: pack.size, blobs })
      .catch(err => { this.failure ??= { err } })
      .finally(() => { this.slots.release(); this.uploads.delete(upload) })
    this.uploads.add(upload)
  }
}
