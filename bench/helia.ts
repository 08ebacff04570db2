// The Helia baseline: add a file on one process, fetch it over bitswap on
// another, both with a filesystem blockstore (bench/helia/{add,fetch}.mjs).
// Helia lives in bench/helia with its own package.json so that backpack's
// own install stays light; it is installed on first use.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashFile } from './files.js'
import { Peer, runMeasured } from './proc.js'
import { peakRss } from './rss.js'
import { mbps } from './stats.js'

/** bench/helia in the source tree (this file runs from dist/bench) */
export const HELIA_DIR = fileURLToPath(new URL('../../bench/helia/', import.meta.url))
const FETCH_TIMEOUT_MS = 60 * 60_000

export function heliaInstalled (): boolean {
  return existsSync(join(HELIA_DIR, 'node_modules', 'helia'))
}

/** `npm ci --prefix bench/helia`; throws when it fails. */
export function installHelia (): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['ci', '--prefix', HELIA_DIR, '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (result.status !== 0) throw new Error(`npm ci --prefix ${HELIA_DIR} exited ${result.status}`)
}

export interface HeliaRun {
  addMbps: number
  fetchMbps: number
  /** Peak RSS of the providing and the fetching process, bytes */
  rss: { provider: number, fetcher: number }
}

/** Add `file` on a fresh provider, fetch it on a fresh fetcher, compare bytes. */
export async function measureHelia (file: string, bytes: number, sha: string, tmp: string): Promise<HeliaRun> {
  const dir = await mkdtemp(join(tmp, 'helia-'))
  const provider = new Peer([join(HELIA_DIR, 'add.mjs'), '--file', file, '--blocks', join(dir, 'provider')], { cwd: HELIA_DIR })
  try {
    const added = JSON.parse((await provider.line(/^\{.*\}$/m, FETCH_TIMEOUT_MS))[0]) as { cid: string, addrs: string[], addMs: number }
    const out = join(dir, 'out.bin')
    const fetched = await runMeasured([join(HELIA_DIR, 'fetch.mjs'), '--cid', added.cid, '--addr', added.addrs[0],
      '--out', out, '--blocks', join(dir, 'fetcher')], { cwd: HELIA_DIR, timeoutMs: FETCH_TIMEOUT_MS })
    if (fetched.code !== 0) throw new Error(`helia fetch exited ${fetched.code}: ${fetched.stderr.slice(-2000)}`)
    const { ms } = JSON.parse(fetched.stdout.trim().split('\n').pop() ?? '{}') as { bytes: number, ms: number }
    if (await hashFile(out) !== sha) throw new Error('helia fetched different bytes')
    return {
      addMbps: mbps(bytes, added.addMs),
      fetchMbps: mbps(bytes, ms),
      rss: { provider: await peakRss(provider.pid) ?? 0, fetcher: fetched.peakRss }
    }
  } finally {
    await provider.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
