// Runs in a worker thread: seals and opens chunks off the main thread, which
// is left to move bytes on the network. Buffers come and go as transfers.
import { parentPort, workerData } from 'node:worker_threads'
import { DataCipher } from './cipher.js'
import { cidOf, matchesCid, parseChunkCid } from './index.js'

export interface SealJob { id: number, op: 'seal', buffer: ArrayBuffer, offset: number, length: number }
export interface OpenJob { id: number, op: 'open', buffer: ArrayBuffer, offset: number, length: number, cid: string }
export type Job = SealJob | OpenJob

export interface JobResult {
  id: number
  buffer?: ArrayBuffer
  length?: number
  cid?: Uint8Array
  /** The input buffer, handed back for reuse */
  spare?: ArrayBuffer
  error?: { name: string, message: string }
}

if (parentPort != null) {
  const port = parentPort
  const cipher = new DataCipher(workerData.dataSecret as Uint8Array)
  port.on('message', (job: Job) => {
    try {
      const bytes = new Uint8Array(job.buffer, job.offset, job.length)
      if (job.op === 'seal') {
        const sealed = cipher.seal(bytes)
        const out = ownBuffer(sealed)
        // the piece's buffer goes back too, for the next read
        port.postMessage({ id: job.id, buffer: out.buffer, length: out.byteLength, cid: cidOf(sealed).bytes, spare: job.buffer } satisfies JobResult, [out.buffer, job.buffer])
      } else {
        const cid = parseChunkCid(job.cid)
        if (cid == null || !matchesCid(cid, bytes)) {
          port.postMessage({ id: job.id, error: { name: 'BadHashError', message: `bytes do not match ${job.cid}` } } satisfies JobResult)
          return
        }
        const plain = ownBuffer(cipher.open(bytes))
        // the sealed bytes go back too: left here, they would wait for this
        // thread's rare garbage collections
        port.postMessage({ id: job.id, buffer: plain.buffer, length: plain.byteLength, spare: job.buffer } satisfies JobResult, [plain.buffer, job.buffer])
      }
    } catch (err: any) {
      port.postMessage({ id: job.id, error: { name: err.name ?? 'Error', message: err.message } } satisfies JobResult)
    }
  })
}

/** A Uint8Array that alone fills its ArrayBuffer, so it can be transferred. */
function ownBuffer (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>
  return new Uint8Array(bytes)
}
