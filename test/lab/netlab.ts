// The lab (../shared/netlab): simulated hosts in network namespaces on one
// bridge. Helpers shared by the tests that run nodes inside its hosts.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project root: dist/test/lab/ is three levels below it. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** netlab lives in shared/, beside the checkout. */
export const NETLAB = join(ROOT, '..', 'shared', 'netlab', 'netlab')

/** Run a netlab command for the lab named by `prefix` (another lab on the machine is left alone). */
export function netlab (prefix: string, ...args: string[]): { code: number | null, output: string } {
  const result = spawnSync(NETLAB, args, { env: { ...process.env, NETLAB_PREFIX: prefix }, encoding: 'utf8', timeout: 60_000 })
  return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}` }
}

function which (tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0
}

/** Why the lab cannot run here, or undefined when it can. */
export function labSkipReason (): string | undefined {
  if (process.platform !== 'linux') return `netlab needs Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'not root: netlab needs root for network namespaces (CI runs as root)'
  if (!existsSync(NETLAB)) return `netlab not found at ${NETLAB}`
  const missing = ['ip', 'nft'].filter(tool => !which(tool))
  if (missing.length > 0) return `netlab prerequisites missing: ${missing.join(', ')} (apt-get install -y iproute2 nftables)`
  return undefined
}

/** The lab address of host hI, as netlab assigns it. */
export function hostAddr (i: number): string {
  return `10.77.0.${10 + i}`
}

/** Run a command inside host hI of the lab `prefix`: the wrapper for TestNode. */
export function inHost (prefix: string, i: number): string[] {
  return ['env', `NETLAB_PREFIX=${prefix}`, NETLAB, 'exec', `h${i}`]
}
