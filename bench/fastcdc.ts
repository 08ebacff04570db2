// Throughput of FastCDC (src/chunking/fastcdc.ts) on random bytes: the cut
// point search in memory, and the file reader over a temporary file.
// node dist/bench/fastcdc.js [MiB, default 256]
// Speeds are bytes over CPU time of the process (user + system) as well as
// over wall time: on a shared machine the wall clock counts other work too.
import { randomFillSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FastCdc, readCdcChunks } from '../src/chunking/fastcdc.js'

const MIB = 1024 * 1024
const ROUNDS = 8

function clocks (): { wall: bigint, cpu: NodeJS.CpuUsage } {
  return { wall: process.hrtime.bigint(), cpu: process.cpuUsage() }
}

function speeds (bytes: number, since: ReturnType<typeof clocks>): string {
  const wallS = Number(process.hrtime.bigint() - since.wall) / 1e9
  const cpu = process.cpuUsage(since.cpu)
  const cpuS = (cpu.user + cpu.system) / 1e6
  return `${(bytes / 1e6 / cpuS).toFixed(0)} MB/s of CPU time, ${(bytes / 1e6 / wallS).toFixed(0)} MB/s of wall time`
}

function stats (lengths: number[]): string {
  const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length
  const last = lengths.slice(0, -1)
  return `${lengths.length} chunks, mean ${(mean / MIB).toFixed(3)} MiB, min ${(Math.min(...last) / MIB).toFixed(3)} MiB, max ${(Math.max(...last) / MIB).toFixed(3)} MiB (last chunk left out of min/max)`
}

async function main (): Promise<void> {
  const mib = Number(process.argv[2] ?? 256)
  const data = new Uint8Array(mib * MIB)
  // randomFillSync takes at most 2^31 - 1 bytes a call
  for (let at = 0; at < data.length; at += 64 * MIB) randomFillSync(data, at, Math.min(64 * MIB, data.length - at))
  const cdc = new FastCdc()
  let lengths: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    lengths = []
    const t0 = clocks()
    for (let start = 0; start < data.length;) {
      const length = cdc.cutPoint(data, start, data.length, true)
      lengths.push(length)
      start += length
    }
    console.log(`cutPoint in memory: ${speeds(data.length, t0)}`)
  }
  console.log(stats(lengths))

  const dir = await mkdtemp(join(tmpdir(), 'backpack-bench-'))
  try {
    const path = join(dir, 'random')
    await writeFile(path, data)
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = clocks()
      let bytes = 0
      for await (const chunk of readCdcChunks(path)) bytes += chunk.bytes.length
      console.log(`readCdcChunks from a file (page cache): ${speeds(bytes, t0)}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
