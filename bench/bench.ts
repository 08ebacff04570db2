// `npm run bench`: the benchmark of issue 5, in one run:
//   1. ceiling: a plain libp2p stream (TCP + noise + yamux) between two processes
//   2. backpack put/get through the CLI on a local network of daemons
//   3. Helia add + bitswap fetch (bench/helia, installed on first use)
//   4. DHT provide / findProviders latency
//   5. tree: a generated tree backed up by backpack and restic side by side
// Prints a table and ratios; writes BENCHMARKS.md (full mode) or --out PATH.
//
//   node dist/bench/bench.js [--quick] [--out PATH] [--json PATH] [--only ceiling,backpack,helia,dht,tree,audit]
//   node dist/bench/bench.js --render REPORT.json [--out PATH]   (Markdown again from a saved report)
// Environment: BENCH_OUT and BENCH_JSON as --out and --json. A full run also
// saves its report to bench/results/latest.json (not committed).
import '../src/util/polyfill.js'
import { mkdir, mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measureBackpack } from './backpack.js'
import { measureCeiling } from './ceiling.js'
import { perMiB } from './cpu.js'
import { measureDht } from './dht.js'
import { writeRandomFile } from './files.js'
import { heliaInstalled, installHelia, measureHelia } from './helia.js'
import { Network } from './network.js'
import { killAll } from './proc.js'
import { machine, markdown, mib, missing, ratios, ratioTable, row, table } from './report.js'
import { FULL_TREE, QUICK_TREE } from './tree.js'
import { treeTable } from './tree-report.js'
import { treeSection } from './tree-section.js'
import { auditSection, auditTable } from './audit.js'
import type { AuditPlan } from './audit.js'
import type { TreePlan } from './tree-section.js'
import { median, MiB } from './stats.js'
import type { Report, Row } from './report.js'
import type { TreeReport } from './tree-report.js'

const BENCHMARKS_MD = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url))
const LATEST_JSON = fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url))
const ANALYSIS_MD = fileURLToPath(new URL('../../bench/ANALYSIS.md', import.meta.url))

/** The hand-written analysis that BENCHMARKS.md ends with, if there is one. */
async function analysis (): Promise<string | undefined> {
  return readFile(ANALYSIS_MD, 'utf8').catch(() => undefined)
}
const SECTIONS = ['ceiling', 'backpack', 'helia', 'dht', 'tree', 'audit'] as const
type Section = typeof SECTIONS[number]

interface Plan {
  mode: 'full' | 'quick'
  sizes: number[]
  runs: number
  replicas: number[]
  daemons: number
  dht: { nodes: number, trials: number }
  /** install Helia when missing (full), or skip it (quick) */
  installHelia: boolean
  tree: TreePlan
  audit: AuditPlan
}

const FULL: Plan = { mode: 'full', sizes: [64 * MiB, 256 * MiB, 1024 * MiB], runs: 3, replicas: [1, 3], daemons: 4, dht: { nodes: 30, trials: 15 }, installHelia: true, tree: { tree: FULL_TREE, insertion: 64 * MiB, smallFiles: 100_000, daemons: 4, installRestic: true }, audit: { bytes: 256 * MiB, daemons: 4, auditIntervalMs: 20_000, repairIntervalMs: 2_000 } }
const QUICK: Plan = { mode: 'quick', sizes: [8 * MiB], runs: 1, replicas: [1, 3], daemons: 4, dht: { nodes: 10, trials: 5 }, installHelia: false, tree: { tree: QUICK_TREE, insertion: 4 * MiB, smallFiles: 2_000, daemons: 4, installRestic: false }, audit: { bytes: 8 * MiB, daemons: 4, auditIntervalMs: 4_000, repairIntervalMs: 1_000 } }

interface Args {
  quick: boolean
  out?: string
  json?: string
  render?: string
  only: Set<Section>
}

function parseArgs (argv: string[]): Args {
  const args: Args = { quick: false, out: process.env.BENCH_OUT, json: process.env.BENCH_JSON, only: new Set(SECTIONS) }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') args.quick = true
    else if (arg === '--out') args.out = argv[++i]
    else if (arg === '--json') args.json = argv[++i]
    else if (arg === '--render') args.render = argv[++i]
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',')
      const bad = names.filter(n => !(SECTIONS as readonly string[]).includes(n))
      if (bad.length > 0) usage(`unknown section ${bad.join(',')}: expected ${SECTIONS.join(',')}`)
      args.only = new Set(names as Section[])
    } else usage(`unknown argument ${arg}`)
  }
  if (args.out == null && !args.quick) args.out = BENCHMARKS_MD
  if (args.json == null && !args.quick && args.render == null) args.json = LATEST_JSON
  return args
}

function usage (message: string): never {
  process.stderr.write(`${message}\nusage: bench.js [--quick] [--out PATH] [--json PATH] [--only ${SECTIONS.join(',')}] | --render REPORT.json [--out PATH]\n`)
  process.exit(2)
}

function log (message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

/** Bytes the run needs on disk: daemon copies pile up, plus a source and an output file. */
function diskNeeded (plan: Plan, only: Set<Section>): number {
  const total = plan.sizes.reduce((a, b) => a + b, 0)
  const largest = Math.max(...plan.sizes)
  const copies = only.has('backpack') ? plan.replicas.reduce((a, b) => a + b, 0) * plan.runs * total : 0
  // the tree: source, two restores, the restic repository and two replicas, about 8 copies of its bytes
  const tree = only.has('tree') ? 8 * (plan.tree.tree.large.reduce((a, l) => a + l.size, 0) + plan.tree.tree.files * 16 * 1024) + 4 * plan.tree.insertion : 0
  return copies + 4 * largest + tree
}

async function ceilingRows (plan: Plan): Promise<Row[]> {
  const rows: Row[] = []
  for (const size of plan.sizes) {
    log(`ceiling ${mib(size)}`)
    const r = await measureCeiling(size, plan.runs)
    const ceiling = row('ceiling', `ceiling ${mib(size)}`, 'MB/s', r.mbps, { receiver: r.rss.receiver, sender: r.rss.sender })
    ceiling.cpu = r.cpuMs.map(ms => perMiB(ms, size))
    rows.push(ceiling)
  }
  return rows
}

async function backpackRows (plan: Plan, tmp: string, notes: string[]): Promise<Row[]> {
  const rows: Row[] = []
  const network = new Network(join(tmp, 'network'), '1000GiB')
  try {
    log(`starting ${plan.daemons} backpack daemons`)
    await network.start(plan.daemons)
    const status = []
    for (let i = 0; i < 3; i++) status.push((await network.cli(network.daemons[0], ['status', '--json'])).ms)
    notes.push(`A CLI command's fixed cost (\`backpack status --json\`, median of 3): ${median(status).toFixed(0)} ms; it is inside every put/get figure.`)
    for (const size of plan.sizes) {
      for (const replicas of plan.replicas) {
        log(`backpack put/get ${mib(size)} --replicas ${replicas}`)
        const r = await measureBackpack(network, tmp, size, replicas, plan.runs)
        for (const phase of ['put', 'get'] as const) {
          const name = `${phase} r${replicas} ${mib(size)}`
          const runs = r[phase]
          if (r.status === 'not available' || runs.length === 0) {
            rows.push(missing('backpack', name, 'MB/s', r.status === 'ok' ? 'failed' : r.status, r.notes.join('; ')))
            continue
          }
          const daemonMax = (from: number, to?: number): number => Math.max(0, ...runs.flatMap(x => x.daemonRss.slice(from, to)))
          const peers = runs[0].daemonRss.slice(1).map((_, i) => Math.max(...runs.map(x => x.daemonRss[i + 1])))
          const notes = [`peers ${peers.map(mib).join(' / ')}`]
          if (phase === 'put') notes.push(`replicas ${r.replicas.join('/')}`)
          if (runs.length < plan.runs) notes.push(`${plan.runs - runs.length} of ${plan.runs} runs failed`)
          notes.push(...r.notes)
          const measured = row('backpack', name, 'MB/s', runs.map(x => x.mbps), {
            cli: Math.max(...runs.map(x => x.cliRss)),
            owner: daemonMax(0, 1),
            'peers max': daemonMax(1)
          }, notes.join('; '))
          if (runs.every(x => x.cpuMs != null)) measured.cpu = runs.map(x => perMiB(x.cpuMs ?? 0, size))
          if (runs.length < plan.runs) measured.status = 'failed'
          rows.push(measured)
        }
        if (r.status === 'not available') return rows
      }
    }
  } finally {
    await network.stop()
  }
  return rows
}

async function heliaRows (plan: Plan, tmp: string, notes: string[]): Promise<Row[]> {
  const names = plan.sizes.flatMap(s => [`helia add ${mib(s)}`, `helia fetch ${mib(s)}`])
  if (!heliaInstalled()) {
    if (!plan.installHelia) {
      return names.map(n => missing('helia', n, 'MB/s', 'skipped', 'bench/helia/node_modules is not installed (quick mode does not install it)'))
    }
    log('installing Helia: npm ci --prefix bench/helia')
    installHelia()
  }
  const rows: Row[] = []
  for (const size of plan.sizes) {
    log(`helia ${mib(size)}`)
    const runs = []
    for (let run = 0; run < plan.runs; run++) {
      const file = join(tmp, `helia-${size}-${run}.bin`)
      try {
        const sha = await writeRandomFile(file, size)
        runs.push(await measureHelia(file, size, sha, tmp))
      } finally {
        await rm(file, { force: true })
      }
    }
    rows.push(row('helia', `helia add ${mib(size)}`, 'MB/s', runs.map(r => r.addMbps), { provider: Math.max(...runs.map(r => r.rss.provider)) }))
    rows.push(row('helia', `helia fetch ${mib(size)}`, 'MB/s', runs.map(r => r.fetchMbps), { fetcher: Math.max(...runs.map(r => r.rss.fetcher)) }))
  }
  notes.push('Helia: versions pinned by bench/helia/package-lock.json.')
  return rows
}

async function dhtRows (plan: Plan): Promise<Row[]> {
  log(`DHT: ${plan.dht.nodes} nodes, ${plan.dht.trials} trials`)
  const r = await measureDht(plan.dht)
  const n = `${r.nodes} nodes`
  const med = (xs: number[]): string => median(xs).toFixed(median(xs) < 10 ? 1 : 0)
  const table = `routing tables ${r.routingTable.min}-${r.routingTable.median} (min-median) after ${(r.routingTable.fillMs / 1000).toFixed(1)} s`
  const local = r.findProviders.filter(q => q.local === true).length
  return [
    row('dht', `provide (${n})`, 'ms', r.provide.map(q => q.ms), {},
      `lookup ${med(r.provide.map(q => q.lookupMs ?? q.ms))} ms then ADD_PROVIDER; queries ${med(r.provide.map(q => q.queries))}, hops ${med(r.provide.map(q => q.hops))}, RPC ${med(r.provide.map(q => q.rpcMs))} ms, errors ${r.provide.reduce((a, q) => a + q.errors, 0)}; ${table}`),
    row('dht', `findProviders (${n})`, 'ms', r.findProviders.map(q => q.ms), {},
      `to the first provider: queries ${med(r.findProviders.map(q => q.queries))}, found at hop ${med(r.findProviders.map(q => q.hops))}, RPC ${med(r.findProviders.map(q => q.rpcMs))} ms; ${local === r.findProviders.length ? 'every node held the record (k = 20 > nodes): local answers' : `asked from nodes without the record${local > 0 ? ` (${local} local)` : ''}`}`)
  ]
}

function methodNotes (plan: Plan): string[] {
  return [
    'MB/s is 10^6 bytes per second. RSS is the kernel\'s peak (VmHWM); a daemon\'s peak is reset (clear_refs) before each command, the CLI\'s comes from /usr/bin/time.',
    'ceiling: bench/ceiling-peer.ts in two processes, TCP + noise + yamux on 127.0.0.1, one stream, 1 MiB writes with backpressure, after a 32 MiB warm-up; from opening the stream to the receiver\'s answer after the last byte.',
    `backpack: ${plan.daemons} \`backpack start --no-mdns\` daemons on 127.0.0.1 joined through the first; \`put FILE --replicas N --json\` then \`get ID -o OUT --force --json\` from the first node; a fresh random file each run; bytes compared after get. MB/s = file size / wall-clock time of the CLI command. RSS: cli, owner (the daemon that puts and gets), peers max (the largest of the other daemons; each listed in notes).`,
    'CPU: user + system time of every thread of the case\'s processes (both ceiling processes, each measuring itself from the stream\'s opening to the answer; the CLI from /usr/bin/time and every daemon from /proc/<pid>/stat for backpack), per MiB moved. "At most" is the speed at which that CPU would keep every core of the machine busy.',
    'Helia: bench/helia/add.mjs adds the file (timed inside the process, from the file) with `createHeliaLight` + `withLibp2pLight` (TCP, noise, yamux, identify) + `withBitswap` and `blockstore-fs`; bench/helia/fetch.mjs, a fresh process and blockstore, dials it directly (no DHT, mDNS or bootstrap) and `unixfs.cat`s the file into a file (timed from the dial to the last byte written).',
    `DHT: ${plan.dht.nodes} in-process nodes made by src/node's createNode (backpack's kad-dht settings) on 127.0.0.1, each joined to node 0 and 3 random others; after the routing tables settle, ${plan.dht.trials} rounds of provide (a random CID) from one node and findProviders (stopped at the first provider) from another, preferably one not holding the record. Hops: peers from the local routing table are hop 1, a peer learnt from a hop-h answer is hop h + 1. RPC: median time from a query to its answer. All nodes share one process and 2 cores, so RPC times include waiting for the event loop.`
  ]
}

async function main (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if (args.render != null) {
    const report = JSON.parse(await readFile(args.render, 'utf8')) as Report
    await writeFile(args.out ?? BENCHMARKS_MD, markdown(report, await analysis()))
    return
  }
  const plan = args.quick ? QUICK : FULL
  const tmp = await mkdtemp(join(tmpdir(), 'backpack-bench-'))
  const onSignal = (): void => { killAll(); void rm(tmp, { recursive: true, force: true }).finally(() => process.exit(130)) }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', killAll)
  const loadStart = loadavg()[0]
  const notes = methodNotes(plan)
  const rows: Row[] = []
  let tree: TreeReport | undefined
  let audit: Report['audit']
  try {
    const fs = await statfs(tmp)
    const need = diskNeeded(plan, args.only)
    if (fs.bavail * fs.bsize < need) throw new Error(`${tmp} has ${mib(fs.bavail * fs.bsize)} free; the bench needs about ${mib(need)}`)
    log(`${plan.mode} mode; temp files in ${tmp}`)
    if (args.only.has('ceiling')) rows.push(...await ceilingRows(plan))
    if (args.only.has('backpack')) rows.push(...await backpackRows(plan, tmp, notes))
    if (args.only.has('helia')) rows.push(...await heliaRows(plan, tmp, notes))
    if (args.only.has('dht')) rows.push(...await dhtRows(plan))
    if (args.only.has('tree')) tree = await treeSection(plan.tree, tmp, log)
    if (args.only.has('audit')) audit = await auditSection(plan.audit, tmp, log)
  } finally {
    killAll()
    await rm(tmp, { recursive: true, force: true })
  }
  const npm = process.env.npm_lifecycle_event === 'bench'
  const argv = process.argv.slice(2).join(' ')
  const report: Report = {
    date: new Date().toISOString(),
    command: npm ? `npm run bench${argv !== '' ? ` -- ${argv}` : ''}` : `node dist/bench/bench.js${argv !== '' ? ` ${argv}` : ''}`,
    mode: plan.mode,
    machine: { ...machine(), load: { start: loadStart, end: loadavg()[0] } },
    rows,
    ratios: ratios(rows, plan.sizes.map(mib)),
    notes,
    tree,
    audit
  }
  process.stdout.write(`${table(rows)}\n\n${ratioTable(report.ratios)}\n`)
  if (tree != null) process.stdout.write(`\n${treeTable(tree, report.command)}\n`)
  if (audit != null) process.stdout.write(`\n${auditTable(audit)}\n`)
  if (args.out != null) {
    await writeFile(args.out, markdown(report, await analysis()))
    log(`wrote ${args.out}`)
  }
  if (args.json != null) {
    await mkdir(dirname(args.json), { recursive: true })
    await writeFile(args.json, JSON.stringify(report, null, 2) + '\n')
  }
}

main().then(() => process.exit(0), err => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
