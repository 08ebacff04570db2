// Random test files and their hashes.
import { createHash, randomFillSync } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'

const WRITE_BYTES = 4 * 1024 * 1024

/** Write `bytes` random bytes to `path`; returns their SHA-256 (hex). */
export async function writeRandomFile (path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256')
  const out = createWriteStream(path)
  for (let written = 0; written < bytes;) {
    const buf = randomFillSync(Buffer.allocUnsafe(Math.min(WRITE_BYTES, bytes - written)))
    hash.update(buf)
    written += buf.byteLength
    if (!out.write(buf)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return hash.digest('hex')
}

export async function hashFile (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: WRITE_BYTES })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
