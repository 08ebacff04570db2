import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { AUDIT_PIECE_BYTES, auditRoot, leaves, merklePath, merkleRoot, pieceCount, pieceRange, verifyPiece } from '../../src/chunking/merkle.js'

describe('proofs of storage (merkle)', () => {
  it('every piece of chunks of many sizes proves against the root; the parts a chunk is given in do not matter', () => {
    for (const length of [1, 100, AUDIT_PIECE_BYTES, AUDIT_PIECE_BYTES + 1, 3 * AUDIT_PIECE_BYTES, 7 * AUDIT_PIECE_BYTES - 5, 128 * AUDIT_PIECE_BYTES + 9]) {
      const bytes = randomBytes(length)
      const a = Math.min(7, length)
      const b = Math.max(a, Math.floor(length / 2))
      const split = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]
      assert.equal(auditRoot(split), auditRoot([bytes]), `length ${length}`)
      const level = leaves([bytes])
      assert.equal(level.length, pieceCount(length))
      const root = merkleRoot(level)
      for (let i = 0; i < level.length; i++) {
        const { start, end } = pieceRange(length, i)
        assert.ok(verifyPiece(root, length, i, bytes.subarray(start, end), merklePath(level, i)), `length ${length}, piece ${i}`)
      }
    }
  })

  it('a proof fails for other bytes, another piece, a cut or padded piece, a wrong path or another chunk', () => {
    const length = 9 * AUDIT_PIECE_BYTES + 10
    const bytes = randomBytes(length)
    const level = leaves([bytes])
    const root = merkleRoot(level)
    const piece = (i: number): Uint8Array => { const { start, end } = pieceRange(length, i); return bytes.subarray(start, end) }
    const path = merklePath(level, 3)
    assert.ok(verifyPiece(root, length, 3, piece(3), path))
    const flipped = Uint8Array.from(piece(3))
    flipped[100] ^= 1
    assert.equal(verifyPiece(root, length, 3, flipped, path), false, 'one bit')
    assert.equal(verifyPiece(root, length, 4, piece(3), path), false, 'asked for another piece')
    assert.equal(verifyPiece(root, length, 3, piece(3).subarray(1), path), false, 'cut')
    assert.equal(verifyPiece(root, length, 3, new Uint8Array(AUDIT_PIECE_BYTES), path), false, 'zeroes')
    assert.equal(verifyPiece(root, length, 3, piece(3), path.slice(1)), false, 'short path')
    assert.equal(verifyPiece(root, length, 3, piece(3), [...path, path[0]]), false, 'long path')
    assert.equal(verifyPiece(root, length, 3, piece(3), [randomBytes(32), ...path.slice(1)]), false, 'wrong sibling')
    assert.equal(verifyPiece(merkleRoot(leaves([randomBytes(length)])), length, 3, piece(3), path), false, 'another chunk')
    assert.equal(verifyPiece(root, length, 99, piece(3), path), false, 'no such piece')
    assert.equal(verifyPiece(root, length + 1, 9, piece(9), merklePath(level, 9)), false, 'another length')
  })

  it('a holder keeping only the leaf hashes cannot answer: the piece itself is asked', () => {
    const bytes = randomBytes(4 * AUDIT_PIECE_BYTES)
    const level = leaves([bytes])
    const root = merkleRoot(level)
    // the best it can send without the bytes: the leaf hash where the piece goes
    assert.equal(verifyPiece(root, bytes.byteLength, 2, level[2], merklePath(level, 2)), false)
  })
})
