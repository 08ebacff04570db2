import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { DataCipher } from '../../src/chunking/cipher.js'
import { CryptoPool } from '../../src/chunking/crypto-pool.js'
import { cidOf, matchesCid } from '../../src/chunking/index.js'

describe('CryptoPool', () => {
  for (const workers of [0, 2]) {
    it(`seals and opens like DataCipher (${workers} workers)`, async () => {
      const secret = randomBytes(32)
      const pool = new CryptoPool(secret, workers)
      const keep = setInterval(() => {}, 1000) // worker threads do not keep the process alive
      try {
        assert.equal(pool.running, 0, 'no worker before the first job')
        const cipher = new DataCipher(secret)
        for (const size of [0, 1, 1000, 70_000, 1024 * 1024]) {
          const plain = randomBytes(size)
          const expected = cipher.seal(plain)
          const { sealed: out, cid } = await pool.seal(Buffer.from(plain))
          const sealed = out.subarray() // inline: parts, not joined
          assert.deepEqual(Buffer.from(sealed), Buffer.from(expected), `sealed ${size} bytes`)
          assert.ok(matchesCid(cid, sealed))
          const opened = await pool.open(Buffer.from(sealed), cid)
          assert.deepEqual(Buffer.from(opened), plain)
        }
        assert.equal(pool.running, workers)
        // bytes that do not match the CID, and bytes sealed under another key
        const { sealed, cid } = await pool.seal(randomBytes(100_000))
        const bad = Buffer.from(sealed.subarray())
        bad[10] ^= 1
        await assert.rejects(pool.open(bad, cid), { name: 'BadHashError' })
        const foreign = new DataCipher(randomBytes(32)).seal(randomBytes(100_000))
        await assert.rejects(pool.open(foreign, cidOf(foreign)), { name: 'DecryptError' })
      } finally {
        clearInterval(keep)
        await pool.stop()
      }
    })
  }
})
