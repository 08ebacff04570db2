import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'uint8arrays/equals'

/** A chunk's name: CIDv1, raw codec, sha2-256 of its bytes. */
export function cidOf (bytes: Uint8Array): CID {
  return cidOfParts([bytes])
}

/** The CID of the bytes these parts make when joined. */
export function cidOfParts (parts: Iterable<Uint8Array>): CID {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return CID.createV1(raw.code, createDigest(sha256.code, hash.digest()))
}

/** Do these bytes hash to this CID? Only sha2-256 CIDs are accepted. */
export function matchesCid (cid: CID, bytes: Uint8Array): boolean {
  const check = cidChecker(cid)
  check.update(bytes)
  return check.matches()
}

/** Hashes bytes that arrive in pieces, to check them against `cid` after the last. */
export function cidChecker (cid: CID): { update: (piece: Uint8Array) => void, matches: () => boolean } {
  const hash = createHash('sha256')
  return {
    update: piece => { hash.update(piece) },
    matches: () => cid.multihash.code === sha256.code && equals(hash.digest(), cid.multihash.digest)
  }
}

/** Parse CID bytes or text from outside; undefined when not a raw sha2-256 CIDv1. */
export function parseChunkCid (input: Uint8Array | string): CID | undefined {
  try {
    // copy: a CID decoded in place keeps the whole message it came in (a
    // 1 MiB chunk) alive for as long as the CID lives, e.g. in the DHT's queues
    const cid = typeof input === 'string' ? CID.parse(input) : CID.decode(input.slice())
    if (cid.version !== 1 || cid.multihash.code !== sha256.code) return undefined
    return cid
  } catch {
    return undefined
  }
}

export interface Piece {
  index: number
  offset: number
  bytes: Uint8Array
}

/**
 * Read a file as fixed-size pieces. Each piece is read when the consumer
 * asks for it, so memory stays at one piece whatever the file size.
 */
export async function * readPieces (path: string, chunkSize: number, options: { signal?: AbortSignal, alloc?: () => Buffer | undefined } = {}): AsyncGenerator<Piece> {
  const handle = await open(path, 'r')
  try {
    let offset = 0
    let index = 0
    while (true) {
      options.signal?.throwIfAborted()
      // a recycled buffer when the caller has one: fewer fresh megabytes, fewer GCs
      const buf = options.alloc?.() ?? Buffer.allocUnsafe(chunkSize)
      let filled = 0
      while (filled < chunkSize) {
        const { bytesRead } = await handle.read(buf, filled, chunkSize - filled, offset + filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      if (filled === 0) return
      yield { index, offset, bytes: filled === chunkSize ? buf : buf.subarray(0, filled) }
      offset += filled
      index++
      if (filled < chunkSize) return
    }
  } finally {
    await handle.close()
  }
}
