import assert from 'node:assert/strict'
import { mkfifo } from './mkfifo.js'
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, truncateSync } from 'node:fs'
import { mkdir, readFile, readdir, writeFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ApiClient } from '../../src/api/client.js'
import { TestNetwork, runCli, sleep, waitAllConnected, waitFor } from '../helpers/cli.js'
import { CHUNK, chunkPath, randomFile, sha256File, storedChunks, storedBytes } from '../helpers/files.js'
import type { TestNode } from '../helpers/cli.js'

const MiB = 1024 * 1024

describe('put and get across four nodes', () => {
  const net = new TestNetwork()
  let owner: TestNode
  let holders: TestNode[]
  let dir: string
  let phrase: string

  before(async () => {
    dir = await net.dir()
    ;[owner, ...holders] = await net.addNodes(4)
    // a new repo's first start prints its recovery phrase
    phrase = /^recovery phrase: (.+)$/m.exec(owner.stdout)?.[1] ?? ''
    assert.notEqual(phrase, '')
    await net.waitConnected()
  })

  after(async () => { await net.close() })

  it('puts a 20 MB file on 3 distinct peers and gets identical bytes back', async () => {
    const file = join(dir, 'big.bin')
    const hash = await randomFile(file, 20_000_000)
    const put = await owner.json(['put', file, '--replicas', '3'])
    assert.deepEqual(put.sources, [file])
    assert.equal(put.size, 20_000_000)
    assert.equal(put.files, 1)
    assert.equal(put.dirs, 0)
    assert.deepEqual([put.new, put.changed, put.unchanged], [1, 0, 0])
    // random data: one copy's worth at least the file, plus a little for the tree and the snapshot
    assert.ok(put.added >= 20_000_000 && put.added < 20_000_000 + 64 * 1024, `added ${put.added}`)
    assert.deepEqual(put.replicas, { desired: 3, actual: 3 })
    assert.match(put.id, /^b[a-z2-7]+$/)
    assert.ok(!Number.isNaN(Date.parse(put.created)))

    // every chunk sits on exactly 3 of the other peers; the owner keeps none
    assert.equal((await storedChunks(owner.repo)).length, 0)
    const copies = new Map<string, number>()
    for (const h of holders) {
      for (const cid of await storedChunks(h.repo)) copies.set(cid, (copies.get(cid) ?? 0) + 1)
    }
    // the file's chunks (pieces of 0.5 to 8 MiB), a tree pack, the tree index and the snapshot
    assert.ok(copies.size >= Math.ceil(20_000_000 / (8 * MiB)) + 3 && copies.size <= Math.ceil(20_000_000 / (512 * 1024)) + 3, `${copies.size} chunks`)
    for (const [cid, n] of copies) assert.equal(n, 3, `${cid} has ${n} copies`)
    const bytes = await Promise.all(holders.map(async h => storedBytes(h.repo)))
    assert.ok(bytes.reduce((a, b) => a + b, 0) >= 3 * 20_000_000, `stored ${bytes.join(' + ')}`)

    const out = join(dir, 'big.out')
    const got = await owner.json(['get', `${put.id}:big.bin`, '-o', out])
    assert.deepEqual(got, { id: put.id, path: out, files: 1, size: 20_000_000 })
    assert.equal(await sha256File(out), hash)

    const ls = await owner.json(['ls'])
    const entry = ls.find((e: any) => e.id === put.id)
    assert.ok(entry != null)
    assert.deepEqual(entry.replicas, { desired: 3, actual: 3 })
    assert.equal(entry.created, put.created)
    assert.deepEqual(entry.sources, [file])
    assert.deepEqual([entry.files, entry.dirs, entry.size], [1, 0, 20_000_000])
  })

  it('backs up what it read of a file that shrinks during the put, and warns', async () => {
    const file = join(dir, 'shrinks.bin')
    await randomFile(file, 64 * MiB)
    const half = createHash('sha256').update((await readFile(file)).subarray(0, 32 * MiB)).digest('hex')
    // through the API, to cut the file once the first bytes are read (at most
    // chunksInFlight (8) of its pieces, under half of it, have been read by then)
    const client = await ApiClient.forRepo(owner.repo)
    let cut = false
    const result = await client.call('put', { paths: [file], replicas: 1 }, {
      onProgress: event => {
        if (!cut && event.type === 'backpack:put:progress' && event.bytes > 0) {
          cut = true
          truncateSync(file, 32 * MiB)
        }
      }
    })
    assert.ok(cut, 'the file was cut during the put')
    assert.equal(result.size, 32 * MiB)
    assert.equal(result.warnings.length, 1, result.warnings.join('\n'))
    assert.match(result.warnings[0], /shrinks\.bin changed while it was read: the snapshot holds the 33554432 bytes read/)
    const out = join(dir, 'shrinks.out')
    const get = await runCli(['get', `${result.id}:shrinks.bin`, '-o', out, '--repo', owner.repo])
    assert.equal(get.code, 0, get.stderr)
    assert.equal((await stat(out)).size, 32 * MiB, 'restored as read, not padded to the size it had at the start')
    assert.equal(await sha256File(out), half)

    // the CLI says so on stderr and still exits 0: a file appended to all along
    const appended = join(dir, 'appends.bin')
    await randomFile(appended, 8 * MiB)
    const writer = setInterval(() => { appendFileSync(appended, 'more') }, 5)
    try {
      const put = await runCli(['put', appended, '--replicas', '1', '--repo', owner.repo])
      assert.equal(put.code, 0, put.stderr)
      assert.match(put.stdout, /^snapshot b[a-z2-7]+\n.+\n$/)
      assert.match(put.stderr, /^warning: \S*appends\.bin changed while it was read: the snapshot holds the \d+ bytes read$/m)
    } finally {
      clearInterval(writer)
    }
  })

  it('round-trips an empty file, a 1-byte file, an exact multiple of the chunk size and a non-ASCII name', async () => {
    const cases: Array<[string, number]> = [['empty.bin', 0], ['one.bin', 1], ['two-chunks.bin', 2 * CHUNK], ['фото 日本 ü.bin', 1000]]
    for (const [name, size] of cases) {
      const file = join(dir, name)
      const hash = await randomFile(file, size)
      const put = await owner.json(['put', file, '--replicas', '2'])
      assert.deepEqual([put.files, put.size, put.new], [1, size, 1])
      assert.deepEqual((await owner.json(['ls', put.id])).map((i: any) => [i.path, i.type, i.size]), [[name, 'file', size]])
      const out = join(dir, `restored-${name}`)
      // a bare PATH: that file in the newest snapshot holding it
      const got = await owner.json(['get', name, '-o', out])
      assert.deepEqual(got, { id: put.id, path: out, files: 1, size })
      assert.equal((await stat(out)).size, size)
      assert.equal(await sha256File(out), hash, name)
    }
  })

  it('refuses with exit 2 a --name that get could not restore as it is', async () => {
    const file = join(dir, 'named.txt')
    await randomFile(file, 100)
    for (const name of ['../outside', '/abs', 'dir/', '', '..', '.']) {
      const put = await owner.run(['put', file, '--name', name])
      assert.equal(put.code, 2, `${name}: ${put.stderr}`)
      assert.match(put.stderr, /^error: invalid --name .*: a name/)
      assert.equal(put.stderr.trim().split('\n').length, 1)
    }
    // and the API says why to a client that skips the CLI
    await assert.rejects(ApiClient.forRepo(owner.repo).then(async c => c.call('put', { paths: [file], name: '../outside' })), /name/)
    // a good --name names the file in the snapshot
    const named = await owner.json(['put', file, '--name', 'other.txt', '--replicas', '1'])
    assert.deepEqual((await owner.json(['ls', named.id])).map((i: any) => i.path), ['other.txt'])
    // --name takes one path; two paths of the same base name are refused
    const two = await owner.run(['put', file, join(dir, 'big.bin'), '--name', 'x'])
    assert.equal(two.code, 2, two.stderr)
    await mkdir(join(dir, 'twin'))
    await randomFile(join(dir, 'twin', 'named.txt'), 10)
    const same = await owner.run(['put', file, join(dir, 'twin', 'named.txt')])
    assert.equal(same.code, 1, same.stderr)
    assert.match(same.stderr, /same name/)
    assert.equal(same.stderr.trim().split('\n').length, 1)
  })

  it('restores into ./NAME by default and refuses to overwrite without --force', async () => {
    const src = join(dir, 'src')
    await mkdir(src)
    const hash = await randomFile(join(src, 'doc.txt'), 5000)
    await owner.json(['put', join(src, 'doc.txt'), '--replicas', '2'])
    await writeFile(join(dir, 'untouched'), 'x')
    const cwd = join(dir, 'cwd')
    await mkdir(cwd)
    const first = await owner.run(['get', 'doc.txt'], { cwd })
    assert.equal(first.code, 0, first.stderr)
    assert.equal(await sha256File(join(cwd, 'doc.txt')), hash)
    const again = await owner.run(['get', 'doc.txt'], { cwd })
    assert.equal(again.code, 1)
    assert.match(again.stderr, /^error: .*doc\.txt exists: pass --force to overwrite it$/m)
    assert.equal(again.stderr.trim().split('\n').length, 1)
    await writeFile(join(cwd, 'doc.txt'), 'changed')
    const forced = await owner.run(['get', 'doc.txt', '--force'], { cwd })
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(await sha256File(join(cwd, 'doc.txt')), hash)
  })

  it('-o naming an existing directory, or ending in a slash, restores into it, as cp does', async () => {
    const hash = await randomFile(join(dir, 'report.pdf'), 5000)
    await owner.json(['put', join(dir, 'report.pdf'), '--replicas', '1'])
    const existing = join(dir, 'existing')
    await mkdir(existing)
    const into = await owner.run(['get', 'report.pdf', '-o', existing])
    assert.equal(into.code, 0, into.stderr)
    assert.equal(await sha256File(join(existing, 'report.pdf')), hash)
    const fresh = join(dir, 'fresh')
    const slash = await owner.run(['get', 'report.pdf', '-o', fresh + '/'])
    assert.equal(slash.code, 0, slash.stderr)
    assert.equal(await sha256File(join(fresh, 'report.pdf')), hash)
    // and -o naming a file still names the file
    const named = await owner.run(['get', 'report.pdf', '-o', join(dir, 'renamed.pdf')])
    assert.equal(named.code, 0, named.stderr)
    assert.equal(await sha256File(join(dir, 'renamed.pdf')), hash)
  })

  it('backs up a directory under relative paths and restores the directory or the whole snapshot into a directory', async () => {
    const root = join(dir, 'photos')
    await mkdir(join(root, '2024'), { recursive: true })
    const a = await randomFile(join(root, '2024', 'a.jpg'), 3000)
    const b = await randomFile(join(root, 'b.jpg'), 70_000)
    const put = await owner.json(['put', root, '--replicas', '2'])
    assert.deepEqual([put.files, put.dirs, put.size], [2, 2, 73_000])
    assert.deepEqual(put.sources, [root])
    const paths = (await owner.json(['ls', put.id])).map((i: any) => i.path)
    assert.deepEqual([...paths].sort(), ['photos', 'photos/2024', 'photos/2024/a.jpg', 'photos/b.jpg'])
    // the directory (a bare PATH): OUT/photos/…
    const target = join(dir, 'restore-dir')
    const got = await owner.json(['get', 'photos', '-o', target])
    assert.deepEqual(got, { id: put.id, path: join(target, 'photos'), files: 2, size: 73_000 })
    assert.equal(await sha256File(join(target, 'photos', '2024', 'a.jpg')), a)
    assert.equal(await sha256File(join(target, 'photos', 'b.jpg')), b)
    // the whole snapshot: its top-level entries into OUT
    const whole = join(dir, 'restore-whole')
    const all = await owner.json(['get', put.id, '-o', whole])
    assert.deepEqual(all, { id: put.id, path: whole, files: 2, size: 73_000 })
    assert.deepEqual(await readdir(whole), ['photos'])
    assert.equal(await sha256File(join(whole, 'photos', '2024', 'a.jpg')), a)
    // a directory inside it: OUT/2024/…
    const sub = join(dir, 'restore-sub')
    await owner.json(['get', `${put.id}:photos/2024`, '-o', sub])
    assert.deepEqual(await readdir(sub), ['2024'])
    assert.equal(await sha256File(join(sub, '2024', 'a.jpg')), a)
  })

  it('gets identical bytes when one holder\'s copy of a chunk is garbage', async () => {
    const file = join(dir, 'corrupt.bin')
    const hash = await randomFile(file, 3 * MiB)
    const put = await owner.json(['put', file, '--replicas', '3'])
    // overwrite every chunk file of the first holder with garbage of the same size
    const victim = holders[0]
    let spoiled = 0
    for (const cid of await storedChunks(victim.repo)) {
      const path = chunkPath(victim.repo, cid)
      await writeFile(path, Buffer.alloc((await stat(path)).size, 0x42))
      spoiled++
    }
    assert.ok(spoiled > 0)
    const out = join(dir, 'corrupt.out')
    await owner.json(['get', `${put.id}:corrupt.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
  })

  it('exits 3 with --replicas 5 and 3 peers, and the data is still restorable', async () => {
    const file = join(dir, 'five.bin')
    const hash = await randomFile(file, 1_500_000)
    const result = await owner.run(['put', file, '--replicas', '5', '--json'])
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, /3 of 5 replicas.*3 peers reachable/)
    assert.match(result.stderr, /^degraded: /m)
    const put = JSON.parse(result.stdout)
    assert.deepEqual(put.replicas, { desired: 5, actual: 3 })
    const out = join(dir, 'five.out')
    await owner.json(['get', `${put.id}:five.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
  })

  it('fails with exit 1 and one clear line for a missing path, a special file and an unknown id', async () => {
    const missing = await owner.run(['put', join(dir, 'nope.bin')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /nope\.bin.*no such file/)
    assert.equal(missing.stderr.trim().split('\n').length, 1)

    // root reads any file whatever its mode, so a FIFO stands in for an unreadable file
    const fifo = join(dir, 'pipe')
    await mkfifo(fifo)
    const unreadable = await owner.run(['put', fifo])
    assert.equal(unreadable.code, 1)
    assert.match(unreadable.stderr, /pipe/)
    assert.equal(unreadable.stderr.trim().split('\n').length, 1)

    const unknown = await owner.run(['get', 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', '-o', join(dir, 'x')])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /bafkrei/)
    assert.equal(unknown.stderr.trim().split('\n').length, 1)
    assert.equal(existsSync(join(dir, 'x')), false)

    const badReplicas = await owner.run(['put', join(dir, 'big.bin'), '--replicas', 'many'])
    assert.equal(badReplicas.code, 2)
  })

  it('keeps ls and get working after the owner restarts', async () => {
    const before = await owner.json(['ls'])
    assert.ok(before.length > 0)
    assert.equal(await owner.stop(), 0)
    await owner.start({ bootstrap: [holders[0].addrs[0]] })
    await net.waitConnected()
    const afterRestart = await owner.json(['ls'])
    assert.deepEqual(afterRestart.map((e: any) => e.id), before.map((e: any) => e.id))
    const out = join(dir, 'after-restart.out')
    await owner.json(['get', 'big.bin', '-o', out])
    assert.equal(await sha256File(out), await sha256File(join(dir, 'big.bin')))
  })

  it('a get that dies with the node (kill -9) leaves no temporary file once the node is back', async () => {
    const file = join(dir, 'restore-killed.bin')
    await randomFile(file, 128 * MiB)
    const put = await owner.json(['put', file, '--replicas', '1'])
    const outDir = join(dir, 'restore-killed')
    await mkdir(outDir)
    const get = runCli(['get', `${put.id}:restore-killed.bin`, '-o', join(outDir, 'out.bin'), '--repo', owner.repo])
    // kill the node once the restore has begun writing its temporary file
    const deadline = Date.now() + 30_000
    while (!(await readdir(outDir)).some(f => f.startsWith('.out.bin.backpack-'))) {
      assert.ok(Date.now() < deadline, 'the restore did not start')
      await sleep(5)
    }
    await owner.kill()
    assert.notEqual((await get).code, 0)
    assert.equal((await readdir(outDir)).length, 1, 'the dead restore left its temporary file')
    await owner.start({ bootstrap: [holders[0].addrs[0]] })
    assert.deepEqual(await readdir(outDir), [], 'removed at start')
    await net.waitConnected()
  })

  /** Put `file` with 2 replicas; also the running holder that took the most of its chunks. */
  async function putTwice (file: string): Promise<{ put: any, victim: TestNode }> {
    const living = holders.filter(h => h.running)
    const before = await Promise.all(living.map(async h => new Set(await storedChunks(h.repo))))
    const put = await owner.json(['put', file, '--replicas', '2'])
    assert.equal(put.replicas.actual, 2)
    const added = await Promise.all(living.map(async (h, i) => (await storedChunks(h.repo)).filter(c => !before[i].has(c)).length))
    assert.ok(Math.max(...added) > 0)
    return { put, victim: living[added.indexOf(Math.max(...added))] }
  }

  it('gets identical bytes when a holder dies (kill -9) in the middle of the get', async () => {
    const file = join(dir, 'dies-mid-get.bin')
    const hash = await randomFile(file, 128 * MiB)
    const { put, victim } = await putTwice(file)
    const outDir = join(dir, 'dies-mid-get')
    await mkdir(outDir)
    let finished = false
    const get = runCli(['get', `${put.id}:dies-mid-get.bin`, '-o', join(outDir, 'out.bin'), '--repo', owner.repo]).finally(() => { finished = true })
    // kill the holder once a sixteenth of the file is written: chunks are
    // then on their way from it, some of them half received
    const deadline = Date.now() + 30_000
    for (;;) {
      const tmp = (await readdir(outDir)).find(f => f.startsWith('.out.bin.backpack-'))
      const size = tmp == null ? 0 : await stat(join(outDir, tmp)).then(s => s.size, () => 0)
      if (size >= 8 * MiB) break
      assert.ok(Date.now() < deadline, 'the restore did not start')
      await sleep(2)
    }
    await victim.kill()
    assert.equal(finished, false, 'the get was over before the holder died')
    const result = await get
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await sha256File(join(outDir, 'out.bin')), hash)
    assert.deepEqual(await readdir(outDir), ['out.bin'])
    await victim.start({ bootstrap: [owner.addrs[0]] })
    await net.waitConnected()
  })

  it('gets identical bytes after kill -9 of a holder', async () => {
    const file = join(dir, 'killed.bin')
    const hash = await randomFile(file, 4 * MiB)
    const { put, victim } = await putTwice(file)
    await victim.kill()
    const out = join(dir, 'killed.out')
    await owner.json(['get', `${put.id}:killed.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
  })

  it('a node recovered from the phrase into a new repo finds its catalog in the network and restores by name', async () => {
    const file = join(dir, 'recover.bin')
    // 16 chunks and a manifest, placed by rendezvous hashing over the two
    // holders still running: all on one of them has a chance of 2^-16
    const hash = await randomFile(file, 16 * CHUNK)
    const living = holders.filter(h => h.running)
    const before = await Promise.all(living.map(async h => new Set(await storedChunks(h.repo))))
    const put = await owner.json(['put', file, '--replicas', '1'])
    // one copy per chunk, spread: no single holder has them all
    const took = await Promise.all(living.map(async (h, i) => (await storedChunks(h.repo)).filter(c => !before[i].has(c)).length))
    assert.ok(took.filter(n => n > 0).length >= 2, `chunks on ${took.join('/')}`)
    // the backups made after the test above that spoiled every copy on one holder
    // (the others may have lost their last good copy to it and the kill -9)
    const catalog = await owner.json(['ls'])
    const intact = catalog.filter((e: any) => ['five.bin', 'killed.bin', 'recover.bin'].some(name => e.sources[0] === join(dir, name)))
    assert.equal(intact.length, 3)
    const ids = intact.map((e: any) => e.id)
    const known = new Set(catalog.map((e: any) => e.id))
    assert.equal(await owner.stop(), 0)

    const repo = join(await net.dir(), 'recovered')
    const init = await runCli(['init', '--repo', repo, '--recover'], { input: phrase })
    assert.equal(init.code, 0, init.stderr)
    const recovered = await net.addNode({ repo, bootstrap: [living[0].addrs[0]] })
    assert.equal(recovered.peerId, owner.peerId)
    await waitAllConnected([recovered, ...living], 30_000, 'the recovered node did not join')
    // the new repo's catalog was empty: every entry comes from the holders, found through the DHT
    let missing: string[] = ids
    await waitFor(async () => {
      const got = (await recovered.json(['ls'])).map((e: any) => e.id)
      missing = ids.filter((id: string) => !got.includes(id))
      return missing.length === 0
    }, 30_000, 'the recovered node did not find its catalog').catch(err => {
      const names = missing.map(id => catalog.find((e: any) => e.id === id)?.sources.join(' '))
      throw new Error(`${err.message}: ${missing.length} of ${ids.length} backups missing (${names.join(', ')})`)
    })
    // nothing that was not in the lost node's catalog
    for (const e of await recovered.json(['ls'])) assert.ok(known.has(e.id), `${e.sources.join(' ')} was not a snapshot of the lost node`)
    const entry = (await recovered.json(['ls'])).find((e: any) => e.id === put.id)
    const { replicas: _r, proven: recoveredProof, ...fields } = entry
    const { replicas: _o, proven: originalProof, ...original } = catalog.find((e: any) => e.id === put.id)
    assert.deepEqual(fields, original)
    assert.deepEqual(entry.replicas, { desired: 1, actual: 1 })
    // the lost node had proofs of its copies; the recovered one knows no roots
    // to audit against (its holders' word counts), and says so
    assert.ok(!Number.isNaN(Date.parse(originalProof)), `original proven ${originalProof}`)
    assert.equal(recoveredProof, null)
    assert.deepEqual(await recovered.json(['ls', `${put.id}:recover.bin`]), await recovered.json(['ls', 'recover.bin']))
    const out = join(dir, 'recover.out')
    const got = await recovered.run(['get', 'recover.bin', '-o', out])
    assert.equal(got.code, 0, got.stderr)
    assert.equal(await sha256File(out), hash)
  })
})
