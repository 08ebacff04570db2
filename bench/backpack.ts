// backpack `put` and `get` of one file through the CLI against a local
// network (see network.ts): MB/s of each command (wall clock, as a user sees
// it) and the peak RSS of the CLI and of every daemon during it.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { hashFile, writeRandomFile } from './files.js'
import { mbps } from './stats.js'
import type { Network } from './network.js'

/** CLI exit code for an unknown command (CONTRACT.md) */
const EXIT_USAGE = 2
/** CLI exit code for "backed up, but below the desired replicas" */
const EXIT_DEGRADED = 3
const COMMAND_TIMEOUT_MS = 60 * 60_000

export interface PhaseRun {
  mbps: number
  ms: number
  /** Peak RSS of the CLI process, bytes */
  cliRss: number
  /** Peak RSS of each daemon during the command, bytes; index 0 is the owner */
  daemonRss: number[]
}

export interface BackpackRuns {
  status: 'ok' | 'not available' | 'failed'
  note?: string
  put: PhaseRun[]
  get: PhaseRun[]
  /** Actual replicas reported by put, per run */
  replicas: number[]
}

/**
 * `runs` rounds of: a fresh random file (so nothing is deduplicated), put
 * it from node 0 with `--replicas`, get it back, compare the bytes.
 */
export async function measureBackpack (network: Network, dir: string, bytes: number, replicas: number, runs: number): Promise<BackpackRuns> {
  const result: BackpackRuns = { status: 'ok', put: [], get: [], replicas: [] }
  const owner = network.daemons[0]
  for (let run = 0; run < runs; run++) {
    const file = join(dir, `file-${bytes}-r${replicas}-${run}.bin`)
    const out = join(dir, `out-${bytes}-r${replicas}-${run}.bin`)
    try {
      const sha = await writeRandomFile(file, bytes)

      await network.resetPeaks()
      const put = await network.cli(owner, ['put', file, '--replicas', String(replicas), '--json'], COMMAND_TIMEOUT_MS)
      const putRss = await network.peaks()
      if (put.code === EXIT_USAGE && /unknown command|usage|error: /i.test(put.stderr + put.stdout)) {
        return { ...result, status: 'not available', note: `backpack put exited 2: ${firstLine(put.stderr)}` }
      }
      if (put.code !== 0 && put.code !== EXIT_DEGRADED) {
        return { ...result, status: 'failed', note: `put exited ${put.code}: ${firstLine(put.stderr)}` }
      }
      const [entry] = JSON.parse(put.stdout) as Array<{ id: string, size: number, replicas: { actual: number } }>
      result.put.push({ mbps: mbps(bytes, put.ms), ms: put.ms, cliRss: put.peakRss, daemonRss: putRss })
      result.replicas.push(entry.replicas.actual)
      if (put.code === EXIT_DEGRADED) result.note = `put degraded: ${firstLine(put.stderr)}`

      await network.resetPeaks()
      const get = await network.cli(owner, ['get', entry.id, '-o', out, '--force', '--json'], COMMAND_TIMEOUT_MS)
      const getRss = await network.peaks()
      if (get.code !== 0) {
        return { ...result, status: 'failed', note: `get exited ${get.code}: ${firstLine(get.stderr)}` }
      }
      if (await hashFile(out) !== sha) {
        return { ...result, status: 'failed', note: 'get returned different bytes' }
      }
      result.get.push({ mbps: mbps(bytes, get.ms), ms: get.ms, cliRss: get.peakRss, daemonRss: getRss })
    } finally {
      await rm(file, { force: true })
      await rm(out, { force: true })
    }
  }
  return result
}

function firstLine (text: string): string {
  return text.trim().split('\n')[0] ?? ''
}
