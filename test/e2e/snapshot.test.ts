// Contract v2 end to end: one snapshot per put, what it holds, how it is
// listed, restored, shared, forgotten, scheduled and recovered. One network
// of four nodes for the whole file; the tests run in order and build on it.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { chmod, lstat, lutimes, mkdir, readFile, readdir, readlink, rm, symlink, utimes, writeFile, copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { NODE_ARGS, TestNetwork, runCli, sleep, waitAllConnected, waitFor } from '../helpers/cli.js'
import { randomFile, sha256File, storedChunks, storedSizes } from '../helpers/files.js'
import { mkfifo } from './mkfifo.js'
import type { TestNode, RunResult } from '../helpers/cli.js'

const MiB = 1024 * 1024
/** Chunks a put has on their way at once (transfer.chunksInFlight) */
const CHUNKS_IN_FLIGHT = 8

/** stderr holds exactly one non-empty line; returns it. */
function oneLine (result: RunResult): string {
  const lines = result.stderr.split('\n').filter(line => line.trim() !== '')
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${result.stderr}`)
  assert.doesNotMatch(lines[0], /^\s+at /, 'no stack trace')
  return lines[0]
}

/** Every chunk file over these nodes' stores, by `<node index> <cid>`, with its size. */
async function chunkFiles (nodes: TestNode[]): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const [i, node] of nodes.entries()) {
    for (const [cid, size] of await storedSizes(node.repo)) out.set(`${i} ${cid}`, size)
  }
  return out
}

function sum (values: Iterable<number>): number {
  let n = 0
  for (const v of values) n += v
  return n
}

describe('snapshots across four nodes', () => {
  const net = new TestNetwork()
  let owner: TestNode
  let holders: TestNode[]
  let dir: string
  let phrase: string

  before(async () => {
    dir = await net.dir()
    ;[owner, ...holders] = await net.addNodes(4)
    phrase = /^recovery phrase: (.+)$/m.exec(owner.stdout)?.[1] ?? ''
    assert.notEqual(phrase, '')
    await net.waitConnected()
  })

  after(async () => { await net.close() })

  /** The snapshots in `ls --json` whose sources are exactly these. */
  async function snapshotsOf (...sources: string[]): Promise<any[]> {
    return (await owner.json(['ls'])).filter((s: any) => JSON.stringify(s.sources) === JSON.stringify(sources))
  }

  // times to the millisecond, on files, directories and links alike
  const T = (n: number): Date => new Date(1_600_000_000_000 + n * 86_400_123 + n)
  let treeSnap: any
  let tree: string

  it('restores a tree of nested and empty directories, links, odd modes and odd names exactly, and skips a FIFO with one warning', async () => {
    tree = join(dir, 'tree')
    const expect: Array<{ path: string, type: 'file' | 'dir' | 'symlink', mode?: number, time: Date, target?: string, size?: number }> = []
    const file = async (path: string, size: number, mode: number, n: number): Promise<void> => {
      await randomFile(join(tree, path), size)
      await chmod(join(tree, path), mode)
      expect.push({ path, type: 'file', mode, time: T(n), size })
    }
    const link = async (path: string, target: string, n: number): Promise<void> => {
      await symlink(target, join(tree, path))
      expect.push({ path, type: 'symlink', time: T(n), target })
    }
    for (const d of ['a/b/c', 'a/empty2', 'empty', 'links', 'private', 'ünï 日本']) await mkdir(join(tree, d), { recursive: true })
    await file('a/b/c/deep.txt', 1234, 0o644, 1)
    await file('a/b/mid.bin', 700 * 1024, 0o644, 2)
    await file('private/secret', 10, 0o600, 3)
    await file('run.sh', 300, 0o755, 4)
    await file('ro.txt', 50, 0o444, 5)
    await file('with space.txt', 99, 0o644, 6)
    await file('ünï 日本/фото ü.txt', 4321, 0o640, 7)
    await file('empty-file', 0, 0o644, 8)
    await link('links/rel', '../a/b/c/deep.txt', 9)
    await link('links/abs', '/etc/hostname', 10)
    await link('links/dangling', 'nowhere/missing', 11)
    await link('links/to-dir', '../a', 12)
    await mkfifo(join(tree, 'a', 'pipe'))
    // directories last, deepest first: writing into one sets its time
    const dirs: Array<[string, number]> = [['a/b/c', 0o755], ['a/b', 0o750], ['a/empty2', 0o700], ['a', 0o755], ['empty', 0o755], ['links', 0o755], ['private', 0o700], ['ünï 日本', 0o755], ['', 0o755]]
    for (const [i, [path, mode]] of dirs.entries()) {
      await chmod(join(tree, path), mode)
      expect.push({ path, type: 'dir', mode, time: T(20 + i) })
    }
    for (const e of expect) {
      if (e.type === 'symlink') await lutimes(join(tree, e.path), e.time, e.time)
      else if (e.type === 'file') await utimes(join(tree, e.path), e.time, e.time)
    }
    for (const e of expect) if (e.type === 'dir') await utimes(join(tree, e.path), e.time, e.time)
    // what the file system made of them (utimes takes seconds as a float), to the ms
    for (const e of expect) e.time = new Date(Number((await lstat(join(tree, e.path), { bigint: true })).mtimeNs / 1_000_000n))

    const put = await owner.run(['put', tree, '--replicas', '2', '--json'])
    assert.equal(put.code, 0, put.stderr)
    const warnings = put.stderr.split('\n').filter(l => l.startsWith('warning:'))
    assert.equal(warnings.length, 1, put.stderr)
    assert.match(warnings[0], /pipe/)
    assert.equal(put.stderr.trim().split('\n').length, 1, `nothing else on stderr: ${put.stderr}`)
    treeSnap = JSON.parse(put.stdout)
    const files = expect.filter(e => e.type !== 'dir')
    assert.equal(treeSnap.files, files.length, 'regular files and links')
    assert.equal(treeSnap.dirs, dirs.length)
    assert.equal(treeSnap.new, files.filter(e => e.type === 'file').length)
    assert.deepEqual([treeSnap.changed, treeSnap.unchanged], [0, 0])
    assert.equal(treeSnap.size, sum(files.map(e => e.size ?? 0)))
    assert.deepEqual(treeSnap.replicas, { desired: 2, actual: 2 })

    // ls: every item with its type, size, mode and time; the FIFO is not in it
    const items: any[] = await owner.json(['ls', treeSnap.id])
    const byPath = new Map(items.map(i => [i.path, i]))
    assert.equal(items.length, expect.length, JSON.stringify(items.map(i => i.path)))
    for (const e of expect) {
      const item = byPath.get(e.path === '' ? 'tree' : `tree/${e.path}`)
      assert.ok(item != null, `${e.path} listed`)
      assert.equal(item.type, e.type, e.path)
      if (e.mode != null) assert.equal(item.mode & 0o7777, e.mode, `mode of ${e.path}`)
      if (e.size != null) assert.equal(item.size, e.size, `size of ${e.path}`)
      assert.equal(item.mtime, e.time.toISOString(), `mtime of ${e.path}`)
    }

    // the FIFO goes before the comparison: the restore has none
    await rm(join(tree, 'a', 'pipe'))
    const a = expect.find(e => e.path === 'a')
    assert.ok(a != null)
    await utimes(join(tree, 'a'), a.time, a.time)
    const out = join(dir, 'tree-out')
    const got = await owner.json(['get', treeSnap.id, '-o', out])
    assert.deepEqual(got, { id: treeSnap.id, path: out, files: got.files, size: treeSnap.size })
    assert.ok(got.files >= files.filter(e => e.type === 'file').length, `files ${got.files}`)
    assert.deepEqual(await readdir(out), ['tree'])
    const diff = await promisify(execFile)('diff', ['-r', '--no-dereference', tree, join(out, 'tree')]).then(() => '', (err: any) => `${err.stdout}${err.stderr}`)
    assert.equal(diff, '', 'diff -r --no-dereference of source and restore')
    for (const e of expect) {
      const path = join(out, 'tree', e.path)
      const st = await lstat(path)
      assert.equal(st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other', e.type, e.path)
      if (e.mode != null) assert.equal(st.mode & 0o7777, e.mode, `mode of ${e.path}: ${(st.mode & 0o7777).toString(8)}`)
      assert.equal(new Date(Number((await lstat(path, { bigint: true })).mtimeNs / 1_000_000n)).toISOString(), e.time.toISOString(), `mtime of ${e.path}`)
      if (e.target != null) assert.equal(await readlink(path), e.target, `target of ${e.path}`)
      if (e.type === 'file') assert.equal(await sha256File(path), await sha256File(join(tree, e.path)), e.path)
    }
  })

  it('leaves out what --exclude names (gitignore patterns, matched inside the snapshot), and refuses a malformed pattern with exit 2', async () => {
    const src = join(dir, 'ex')
    for (const d of ['raw/deep', 'cache', 'keep/cache', 'keep/sub']) await mkdir(join(src, d), { recursive: true })
    for (const f of ['a.txt', 'b.tmp', 'raw/x.jpg', 'raw/deep/y.jpg', 'cache/c.bin', 'keep/cache/d.bin', 'keep/sub/e.tmp', 'keep/sub/f.txt']) await writeFile(join(src, f), f)
    const put = await owner.run(['put', src, '--replicas', '2', '--exclude', '*.tmp', '--exclude', 'cache/', '--exclude', '/ex/raw/**', '--json'])
    assert.equal(put.code, 0, put.stderr)
    const snap = JSON.parse(put.stdout)
    assert.equal(snap.files, 2, 'a.txt and keep/sub/f.txt')
    const listed = (await owner.json(['ls', `${snap.id as string}:ex`])).map((e: any) => e.path)
    assert.deepEqual(listed, ['ex', 'ex/a.txt', 'ex/keep', 'ex/keep/sub', 'ex/keep/sub/f.txt', 'ex/raw'])
    const bad = await owner.run(['put', src, '--exclude', '#comment'])
    assert.equal(bad.code, 2, bad.stderr)
    oneLine(bad)
  })

  it('never writes through a symbolic link in the target: a directory of the snapshot met as a link is refused, or with --force replaced by a real directory', async () => {
    const src = join(dir, 'linked')
    await mkdir(join(src, 'd', 'e'), { recursive: true })
    await writeFile(join(src, 'd', 'f.txt'), 'inside')
    await writeFile(join(src, 'd', 'e', 'g.txt'), 'deeper')
    const put = await owner.run(['put', src, '--replicas', '2', '--json'])
    assert.equal(put.code, 0, put.stderr)
    const id = JSON.parse(put.stdout).id as string
    const outside = join(dir, 'outside')
    await mkdir(outside, { recursive: true })
    // the target holds linked/d -> ../../outside (a link where the snapshot has a directory)
    const tgt = join(dir, 'tgt')
    await mkdir(join(tgt, 'linked'), { recursive: true })
    await symlink(join('..', '..', 'outside'), join(tgt, 'linked', 'd'))
    const refused = await owner.run(['get', id, '-o', tgt])
    assert.equal(refused.code, 1, refused.stderr)
    assert.match(oneLine(refused), /exists: pass --force/)
    assert.deepEqual(await readdir(outside), [], 'nothing written through the link')
    const forced = await owner.run(['get', id, '-o', tgt, '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(await readdir(outside), [], 'nothing written through the link')
    assert.ok((await lstat(join(tgt, 'linked', 'd'))).isDirectory(), 'the link was replaced by a directory')
    assert.equal(await readFile(join(tgt, 'linked', 'd', 'e', 'g.txt'), 'utf8'), 'deeper')
  })

  it('a file deleted between two snapshots is in the first\'s restore only; an unchanged put sends only its snapshot chunk; ls lists each snapshot once', async () => {
    const src = join(dir, 'docs')
    await mkdir(src)
    const hashes: Record<string, string> = {}
    for (const [name, size] of [['keep.txt', 2000], ['gone.txt', 3000], ['big.bin', 1 * MiB]] as const) hashes[name] = await randomFile(join(src, name), size)
    const first = await owner.json(['put', src, '--replicas', '2'])
    assert.deepEqual([first.files, first.new, first.changed, first.unchanged], [3, 3, 0, 0])
    await rm(join(src, 'gone.txt'))
    const second = await owner.json(['put', src, '--replicas', '2'])
    assert.deepEqual([second.files, second.new, second.changed, second.unchanged], [2, 0, 0, 2])
    assert.equal(second.size, 2000 + MiB)

    const one = join(dir, 'docs-1')
    await owner.json(['get', first.id, '-o', one])
    assert.deepEqual((await readdir(join(one, 'docs'))).sort(), ['big.bin', 'gone.txt', 'keep.txt'])
    for (const name of ['big.bin', 'gone.txt', 'keep.txt']) assert.equal(await sha256File(join(one, 'docs', name)), hashes[name], name)
    const two = join(dir, 'docs-2')
    await owner.json(['get', second.id, '-o', two])
    assert.deepEqual((await readdir(join(two, 'docs'))).sort(), ['big.bin', 'keep.txt'])
    assert.deepEqual((await owner.json(['ls', second.id])).map((i: any) => i.path).sort(), ['docs', 'docs/big.bin', 'docs/keep.txt'])
    // the deleted file, by a bare path: from the newest snapshot that still holds it
    const gone = await owner.json(['get', 'docs/gone.txt', '-o', join(dir, 'gone.out')])
    assert.equal(gone.id, first.id)
    assert.equal(await sha256File(join(dir, 'gone.out')), hashes['gone.txt'])

    // nothing changed: no file read again, no chunk but the snapshot's sent
    const before = await chunkFiles(holders)
    const third = await owner.json(['put', src, '--replicas', '2'])
    assert.deepEqual([third.files, third.new, third.changed, third.unchanged], [2, 0, 0, 2])
    assert.ok(third.added < 4096, `added ${third.added}`)
    const grown = [...(await chunkFiles(holders))].filter(([key]) => !before.has(key))
    const cids = new Set(grown.map(([key]) => key.split(' ')[1]))
    assert.ok(cids.size <= 1, `new chunks: ${JSON.stringify(grown)}`)
    for (const [key, size] of grown) assert.ok(size < 4096, `${key} has ${size} bytes`)

    const listed = await snapshotsOf(src)
    assert.deepEqual(listed.map(s => s.id), [third.id, second.id, first.id], 'newest first, one entry each')
    const all = (await owner.json(['ls'])).map((s: any) => s.id)
    assert.equal(new Set(all).size, all.length, 'no snapshot listed twice')
    const { proven, ...entry } = listed[0]
    assert.deepEqual(entry, { id: third.id, created: third.created, sources: [src], files: 2, dirs: 1, size: 2000 + MiB, replicas: third.replicas })
    assert.ok(Date.now() - Date.parse(proven) < 60_000, `ls says when its copies were proven: ${String(proven)}`)
  })

  it('forget --keep-last 1 removes the older snapshot\'s own chunks from the holders and keeps the newest whole', async () => {
    const src = join(dir, 'forget')
    await mkdir(src)
    await randomFile(join(src, 'six.bin'), 6 * MiB)
    const shared = await randomFile(join(src, 'three.bin'), 3 * MiB)
    const base = await chunkFiles(holders)
    const older = await owner.json(['put', src, '--replicas', '2'])
    const mine = [...(await chunkFiles(holders))].filter(([key]) => !base.has(key))
    const olderBytes = sum(mine.map(([, size]) => size))
    assert.ok(olderBytes >= 2 * 9 * MiB, `the older snapshot stored ${olderBytes} bytes`)
    await rm(join(src, 'six.bin'))
    const newer = await owner.json(['put', src, '--replicas', '2'])
    assert.ok(newer.added < 64 * 1024, `the newer one adds only its tree: ${newer.added}`)
    const total = sum((await chunkFiles(holders)).values())

    const dry = await owner.json(['forget', '--keep-last', '1', '--dry-run'])
    assert.ok(dry.removed.includes(older.id) && dry.kept.includes(newer.id), JSON.stringify(dry))
    assert.equal((await snapshotsOf(src)).length, 2, 'a dry run removes nothing')
    const forget = await owner.json(['forget', '--keep-last', '1'])
    assert.ok(forget.removed.includes(older.id), JSON.stringify(forget))
    assert.ok(forget.kept.includes(newer.id), JSON.stringify(forget))
    assert.ok(forget.kept.includes(treeSnap.id), 'the newest of other sources is kept')
    assert.deepEqual((await snapshotsOf(src)).map(s => s.id), [newer.id])

    // the six MiB file's chunks are gone from the holders, the shared file's stay
    let left = 0
    let now = 0
    await waitFor(async () => {
      const after = await chunkFiles(holders)
      left = sum(mine.filter(([key]) => after.has(key)).map(([, size]) => size))
      now = sum(after.values())
      return left <= olderBytes - 2 * 6 * MiB && now <= total - 2 * 6 * MiB
    }, 20_000, 'the forgotten snapshot\'s chunks to leave the holders').catch(err => {
      throw new Error(`${err.message}: of its ${olderBytes} bytes ${left} left; stores ${total} → ${now}`)
    })
    assert.ok(left >= 2 * 3 * MiB, `the shared file's chunks stay: ${left}`)
    const out = join(dir, 'forget-out')
    await owner.json(['get', newer.id, '-o', out])
    assert.deepEqual(await readdir(join(out, 'forget')), ['three.bin'])
    assert.equal(await sha256File(join(out, 'forget', 'three.bin')), shared)
  })

  it('rm of one of two snapshots sharing chunks leaves the other whole', async () => {
    const a = join(dir, 'share-a')
    const b = join(dir, 'share-b')
    await mkdir(a)
    await mkdir(b)
    const common = await randomFile(join(a, 'common.bin'), 3 * MiB)
    await copyFile(join(a, 'common.bin'), join(b, 'common.bin'))
    const onlyA = await randomFile(join(a, 'a.bin'), MiB)
    const onlyB = await randomFile(join(b, 'b.bin'), MiB)
    const first = await owner.json(['put', a, '--replicas', '2'])
    const second = await owner.json(['put', b, '--replicas', '2'])
    // the common file's blob is stored once: sent with the first only
    assert.ok(second.added < 2 * MiB, `the second put added ${second.added} bytes`)
    const rmFirst = await owner.run(['rm', first.id])
    assert.equal(rmFirst.code, 0, rmFirst.stderr)
    assert.equal(rmFirst.stdout, `removed snapshot ${first.id}\n`)
    const gone = await owner.run(['get', first.id, '-o', join(dir, 'share-gone')])
    assert.equal(gone.code, 1)
    oneLine(gone)
    await sleep(1000)
    const out = join(dir, 'share-out')
    await owner.json(['get', second.id, '-o', out])
    assert.equal(await sha256File(join(out, 'share-b', 'common.bin')), common)
    assert.equal(await sha256File(join(out, 'share-b', 'b.bin')), onlyB)

    // and the other way round: the newer of two snapshots of the same sources removed
    const older = await owner.json(['put', a, '--replicas', '2'])
    await randomFile(join(a, 'later.bin'), MiB)
    const newer = await owner.json(['put', a, '--replicas', '2'])
    const rmNewer = await owner.run(['rm', newer.id])
    assert.equal(rmNewer.code, 0, rmNewer.stderr)
    await sleep(1000)
    const back = join(dir, 'share-older')
    await owner.json(['get', older.id, '-o', back])
    assert.deepEqual((await readdir(join(back, 'share-a'))).sort(), ['a.bin', 'common.bin'])
    assert.equal(await sha256File(join(back, 'share-a', 'common.bin')), common)
    assert.equal(await sha256File(join(back, 'share-a', 'a.bin')), onlyA)
  })

  it('ls SNAP:dir lists the directory and everything below; prefixes, latest and bare paths name what they should; unknown or ambiguous SNAPs exit 1', async () => {
    // a prefix of 8 characters
    const prefix = treeSnap.id.slice(0, 8)
    const matching = (await owner.json(['ls'])).filter((s: any) => s.id.startsWith(prefix))
    const listed = await owner.run(['ls', `${treeSnap.id.slice(0, 12)}:tree/a`, '--json'])
    assert.equal(listed.code, 0, listed.stderr)
    const items = JSON.parse(listed.stdout)
    assert.deepEqual(items.map((i: any) => [i.path, i.type]), [
      ['tree/a', 'dir'],
      ['tree/a/b', 'dir'],
      ['tree/a/b/c', 'dir'],
      ['tree/a/b/c/deep.txt', 'file'],
      ['tree/a/b/mid.bin', 'file'],
      ['tree/a/empty2', 'dir']
    ])
    assert.equal(items[3].size, 1234)
    assert.equal(items[4].size, 700 * 1024)
    const links = await owner.json(['ls', `${treeSnap.id}:tree/links/rel`])
    assert.deepEqual(links.map((i: any) => [i.path, i.type]), [['tree/links/rel', 'symlink']])
    if (matching.length === 1) {
      assert.deepEqual(await owner.json(['ls', `${prefix}:tree/a`]), items)
    }
    // a file by path: just itself
    assert.deepEqual((await owner.json(['ls', `${treeSnap.id}:tree/run.sh`])).map((i: any) => [i.path, i.type, i.size, i.mode & 0o7777]), [['tree/run.sh', 'file', 300, 0o755]])

    // latest: the newest snapshot
    const src = join(dir, 'latest')
    await mkdir(src)
    await writeFile(join(src, 'notes.txt'), 'old')
    const oldPut = await owner.json(['put', src, '--replicas', '1'])
    await writeFile(join(src, 'notes.txt'), 'new!')
    const newPut = await owner.json(['put', src, '--replicas', '1'])
    assert.equal((await owner.json(['ls']))[0].id, newPut.id)
    assert.deepEqual(await owner.json(['ls', 'latest']), await owner.json(['ls', newPut.id]))
    const latest = await owner.json(['get', 'latest:latest/notes.txt', '-o', join(dir, 'latest.out')])
    assert.equal(latest.id, newPut.id)
    assert.equal(await readFile(join(dir, 'latest.out'), 'utf8'), 'new!')
    // a bare path: the newest snapshot holding it, also when a newer one of other sources exists
    const other = join(dir, 'unrelated.txt')
    await writeFile(other, 'x')
    await owner.json(['put', other, '--replicas', '1'])
    const bare = await owner.json(['get', 'latest/notes.txt', '-o', join(dir, 'bare.out')])
    assert.equal(bare.id, newPut.id)
    assert.equal(await readFile(join(dir, 'bare.out'), 'utf8'), 'new!')
    const older = await owner.json(['get', `${oldPut.id.slice(0, 16)}:latest/notes.txt`, '-o', join(dir, 'older.out')])
    assert.equal(older.id, oldPut.id)
    assert.equal(await readFile(join(dir, 'older.out'), 'utf8'), 'old')

    // unknown: exit 1, one line, nothing written
    for (const args of [['ls', 'bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'], ['ls', `${newPut.id}:no/such/path`], ['get', 'no/such/path', '-o', join(dir, 'nothing')], ['get', 'bafkreiaaaaaaaaa:latest/notes.txt', '-o', join(dir, 'nothing')]]) {
      const r = await owner.run(args)
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout} ${r.stderr}`)
      oneLine(r)
    }
    await assert.rejects(lstat(join(dir, 'nothing')))

    // ambiguous: 8 characters that start two ids (small puts until two share them)
    const shared = async (): Promise<string | undefined> => {
      const seen = new Set<string>()
      for (const s of await owner.json(['ls'])) {
        const p = s.id.slice(0, 8)
        if (seen.has(p)) return p
        seen.add(p)
      }
      return undefined
    }
    let ambiguous = await shared()
    for (let i = 0; ambiguous == null && i < 40; i++) {
      await writeFile(join(dir, 'unrelated.txt'), `x${i}`)
      await owner.json(['put', join(dir, 'unrelated.txt'), '--replicas', '1'])
      ambiguous = await shared()
    }
    assert.ok(ambiguous != null, 'no two snapshots share 8 characters')
    for (const args of [['ls', ambiguous], ['get', `${ambiguous}:x`, '-o', join(dir, 'nothing')], ['rm', ambiguous]]) {
      const r = await owner.run(args)
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout} ${r.stderr}`)
      assert.match(oneLine(r), /prefix/)
    }
    assert.ok((await owner.json(['ls'])).filter((s: any) => s.id.startsWith(ambiguous)).length >= 2, 'rm removed nothing')
  })

  it('a schedule of seconds makes snapshots by itself, and status shows it', async () => {
    const src = join(dir, 'scheduled')
    await mkdir(src)
    const hash = await randomFile(join(src, 'data.bin'), 100_000)
    assert.equal(await owner.stop(), 0)
    const started = Date.now()
    await owner.start({ bootstrap: [holders[0].addrs[0]], config: { backups: [{ paths: [src], every: '3s', priority: 'low' }] } })
    try {
      await scheduled(src, started, hash)
    } finally {
      // no schedule for the tests that follow
      assert.equal(await owner.stop(), 0)
      await owner.start({ bootstrap: [holders[0].addrs[0]], config: {} })
      await waitAllConnected([owner, ...holders], 30_000, 'the owner did not rejoin')
    }
  })

  async function scheduled (src: string, started: number, hash: string): Promise<void> {
    await waitAllConnected([owner, ...holders], 30_000, 'the owner did not rejoin')
    let made: any[] = []
    await waitFor(async () => {
      made = await snapshotsOf(src)
      if (made.length === 1) await writeFile(join(src, 'more.txt'), `at ${Date.now()}`)
      return made.length >= 2
    }, 25_000, 'two scheduled snapshots').catch(err => { throw new Error(`${err.message}: ${made.length} made`) })
    assert.ok(Date.now() - started < 30_000)
    for (const s of made) assert.deepEqual(s.replicas, { desired: 2, actual: 2 }, 'priority low: 2 replicas')
    const status = await owner.json(['status'])
    assert.equal(status.schedule.length, 1, JSON.stringify(status.schedule))
    const [entry] = status.schedule
    assert.deepEqual(entry.paths, [src])
    assert.equal(entry.result, 'ok')
    assert.ok(!Number.isNaN(Date.parse(entry.last)) && Date.parse(entry.last) >= started, `last ${entry.last}`)
    assert.ok(Date.parse(entry.next) > Date.now() - 1000, `next ${entry.next}`)
    assert.ok(entry.every != null)
    // (the schedule may have made one more since)
    assert.ok(status.snapshots >= made.length, `status counts ${status.snapshots} snapshots`)
    const out = join(dir, 'scheduled-out')
    await owner.json(['get', `${made.at(-1).id}:scheduled/data.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
  }

  it('a put killed with its node (kill -9) leaves no snapshot, and at most its chunks in flight on the holders once the node is back', async () => {
    const src = join(dir, 'killed')
    await mkdir(src)
    await randomFile(join(src, 'big.bin'), 64 * MiB)
    const listed = (await owner.json(['ls'])).map((s: any) => s.id)
    const base = await chunkFiles(holders)
    const fresh = async (): Promise<number> => [...(await chunkFiles(holders)).keys()].filter(k => !base.has(k)).length
    const cli = spawn(process.execPath, [...NODE_ARGS, 'put', src, '--replicas', '1', '--repo', owner.repo], { stdio: 'ignore' })
    try {
      await waitFor(async () => await fresh() >= 3, 30_000, 'the put stored nothing')
      assert.equal(cli.exitCode, null, 'the put ended before it could be interrupted')
      await owner.kill()
    } finally {
      if (cli.exitCode == null) await new Promise(resolve => cli.once('exit', resolve))
    }
    const left = await fresh()
    await owner.start({ bootstrap: [holders[0].addrs[0]] })
    await waitAllConnected([owner, ...holders], 30_000, 'the owner did not rejoin')
    assert.deepEqual((await owner.json(['ls'])).map((s: any) => s.id), listed, 'no snapshot of the killed put')
    let remaining = left
    await waitFor(async () => {
      remaining = await fresh()
      return remaining <= CHUNKS_IN_FLIGHT
    }, 20_000, 'the chunks of a put killed with its node stayed on the holders').catch(err => {
      throw new Error(`${err.message}: ${remaining} of ${left}`)
    })
    const status = await owner.json(['status'])
    assert.equal(status.snapshots, listed.length)
  })

  it('a node recovered from the phrase into a new repo finds its snapshots and restores an older one identical', async () => {
    const src = join(dir, 'history')
    await mkdir(src)
    const v1 = await randomFile(join(src, 'file.bin'), 1500 * 1024)
    await writeFile(join(src, 'small.txt'), 'first')
    const first = await owner.json(['put', src, '--replicas', '2'])
    await randomFile(join(src, 'file.bin'), 1500 * 1024)
    await writeFile(join(src, 'small.txt'), 'second')
    const second = await owner.json(['put', src, '--replicas', '2'])
    const catalog: any[] = await owner.json(['ls'])
    assert.equal(await owner.stop(), 0)

    const repo = join(await net.dir(), 'recovered')
    const init = await runCli(['init', '--repo', repo, '--recover'], { env: { BACKPACK_RECOVERY_PHRASE: phrase } })
    assert.equal(init.code, 0, init.stderr)
    const recovered = await net.addNode({ repo, bootstrap: [holders[0].addrs[0]] })
    assert.equal(recovered.peerId, owner.peerId)
    await waitAllConnected([recovered, ...holders], 30_000, 'the recovered node did not join')
    const ids = catalog.map(s => s.id)
    let missing: string[] = ids
    await waitFor(async () => {
      const got = (await recovered.json(['ls'])).map((s: any) => s.id)
      missing = ids.filter(id => !got.includes(id))
      return missing.length === 0
    }, 40_000, 'the recovered node did not find its snapshots').catch(err => {
      throw new Error(`${err.message}: ${missing.length} of ${ids.length} missing`)
    })
    const now: any[] = await recovered.json(['ls'])
    assert.deepEqual(now.map(s => s.id), ids, 'the same snapshots, newest first, nothing more')
    // the copies' proofs are the lost node's: the recovered one knows no roots to audit against
    const strip = (s: any): any => ({ ...s, replicas: s.replicas.desired, proven: undefined })
    assert.deepEqual(now.map(strip), catalog.map(strip))
    for (const s of catalog) assert.ok(!Number.isNaN(Date.parse(s.proven)), `proven ${s.proven as string} before the loss`)
    for (const s of now) assert.equal(s.proven, null)
    assert.equal(now[0].id, second.id)

    const out = join(dir, 'history-out')
    const got = await recovered.json(['get', first.id, '-o', out])
    assert.equal(got.id, first.id)
    assert.equal(await sha256File(join(out, 'history', 'file.bin')), v1)
    assert.equal(await readFile(join(out, 'history', 'small.txt'), 'utf8'), 'first')
    const diffTree = await promisify(execFile)('diff', ['-r', '--no-dereference', tree, join((await recovered.json(['get', treeSnap.id, '-o', join(dir, 'tree-recovered')])).path, 'tree')]).then(() => '', (err: any) => `${err.stdout}${err.stderr}`)
    assert.equal(diffTree, '', 'the first snapshot of all, restored by the recovered node')
  })
})
