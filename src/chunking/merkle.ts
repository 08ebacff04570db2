import { createHash } from 'node:crypto'
import { equals } from 'uint8arrays/equals'

/**
 * Proofs of storage. A chunk's sealed bytes are cut into pieces of
 * AUDIT_PIECE_BYTES (the last may be shorter), each piece hashed
 * (SHA-256 of 0x00 ‖ piece), and the hashes paired up into a binary tree
 * (SHA-256 of 0x01 ‖ left ‖ right; an odd one out goes up as it is). The
 * owner keeps the root, 32 bytes per chunk, made once when it stores the
 * chunk. An audit asks a holder for one piece, chosen at random, with the
 * sibling hashes on its way up: a holder that kept a hash, a name or part
 * of the bytes cannot answer for a piece it does not have, and one answer
 * costs it a read of the chunk and the owner a piece and a few hashes.
 */
export const AUDIT_PIECE_BYTES = 16 * 1024

const LEAF = Uint8Array.of(0)
const NODE = Uint8Array.of(1)

/** Pieces in a chunk of `length` bytes (one, empty, for an empty chunk). */
export function pieceCount (length: number): number {
  return Math.max(1, Math.ceil(length / AUDIT_PIECE_BYTES))
}

/** Where piece `index` lies in a chunk of `length` bytes. */
export function pieceRange (length: number, index: number): { start: number, end: number } {
  const start = index * AUDIT_PIECE_BYTES
  return { start, end: Math.min(length, start + AUDIT_PIECE_BYTES) }
}

/** The leaf hashes of a chunk given as the parts that make its bytes when joined. */
export function leaves (parts: Iterable<Uint8Array>): Uint8Array[] {
  const out: Uint8Array[] = []
  let hash = createHash('sha256').update(LEAF)
  let filled = 0
  for (const part of parts) {
    let at = 0
    while (at < part.byteLength) {
      const take = Math.min(AUDIT_PIECE_BYTES - filled, part.byteLength - at)
      hash.update(part.subarray(at, at + take))
      filled += take
      at += take
      if (filled === AUDIT_PIECE_BYTES) {
        out.push(hash.digest())
        hash = createHash('sha256').update(LEAF)
        filled = 0
      }
    }
  }
  if (filled > 0 || out.length === 0) out.push(hash.digest())
  return out
}

function parent (left: Uint8Array, right: Uint8Array): Uint8Array {
  return createHash('sha256').update(NODE).update(left).update(right).digest()
}

/** The root over these leaf hashes. */
export function merkleRoot (level: Uint8Array[]): Uint8Array {
  while (level.length > 1) level = up(level)
  return level[0]
}

function up (level: Uint8Array[]): Uint8Array[] {
  const next: Uint8Array[] = []
  for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? parent(level[i], level[i + 1]) : level[i])
  return next
}

/** The sibling hashes from leaf `index` up to the root (none where a node had no sibling). */
export function merklePath (level: Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= level.length) throw new RangeError(`no piece ${index} of ${level.length}`)
  const path: Uint8Array[] = []
  while (level.length > 1) {
    const sibling = index ^ 1
    if (sibling < level.length) path.push(level[sibling])
    level = up(level)
    index >>= 1
  }
  return path
}

/**
 * Does `piece`, with `path`, prove piece `index` of a chunk of `length`
 * bytes whose root is `root`? Checks the piece's length too.
 */
export function verifyPiece (root: Uint8Array, length: number, index: number, piece: Uint8Array, path: Uint8Array[]): boolean {
  let count = pieceCount(length)
  if (!Number.isInteger(index) || index < 0 || index >= count) return false
  const { start, end } = pieceRange(length, index)
  if (piece.byteLength !== end - start) return false
  let hash: Uint8Array = createHash('sha256').update(LEAF).update(piece).digest()
  let used = 0
  while (count > 1) {
    const sibling = index ^ 1
    if (sibling < count) {
      const other = path[used++]
      if (other?.byteLength !== 32) return false
      hash = (index & 1) === 0 ? parent(hash, other) : parent(other, hash)
    }
    index >>= 1
    count = Math.ceil(count / 2)
  }
  return used === path.length && equals(hash, root)
}

/** The root of a chunk's bytes as the owner's catalog keeps it (base64). */
export function auditRoot (parts: Iterable<Uint8Array>): string {
  return Buffer.from(merkleRoot(leaves(parts))).toString('base64')
}
