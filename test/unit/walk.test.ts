import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { badName, listFiles, safeJoin } from '../../src/backup/walk.js'
import { tempDir } from '../helpers/tmp.js'

describe('listFiles', () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => {
    ({ dir, cleanup } = await tempDir())
    await mkdir(join(dir, 'photos', '2024', 'été'), { recursive: true })
    await writeFile(join(dir, 'photos', 'a.jpg'), 'a')
    await writeFile(join(dir, 'photos', '2024', 'b.jpg'), 'b')
    await writeFile(join(dir, 'photos', '2024', 'été', 'café ☕.txt'), 'c')
    await writeFile(join(dir, 'файл 日本.bin'), 'd')
    await symlink(join(dir, 'photos', 'a.jpg'), join(dir, 'photos', 'link.jpg'))
  })
  after(async () => { await cleanup() })

  it('names files below a directory relative to the directory\'s parent, links skipped', async () => {
    const files = await listFiles([join(dir, 'photos')])
    assert.deepEqual(files.map(f => f.name).sort(), [
      'photos/2024/b.jpg',
      'photos/2024/été/café ☕.txt',
      'photos/a.jpg'
    ].sort())
    for (const f of files) assert.equal(f.path, join(dir, f.name))
  })

  it('names a file by its base name, non-ASCII kept', async () => {
    const files = await listFiles([join(dir, 'файл 日本.bin')])
    assert.deepEqual(files, [{ path: join(dir, 'файл 日本.bin'), name: 'файл 日本.bin' }])
  })

  it('replaces the directory\'s own name with `name`', async () => {
    const files = await listFiles([join(dir, 'photos')], 'pics')
    assert.deepEqual(files.map(f => f.name).sort(), ['pics/2024/b.jpg', 'pics/2024/été/café ☕.txt', 'pics/a.jpg'].sort())
  })

  it('fails with InvalidInputError on a missing path', async () => {
    await assert.rejects(listFiles([join(dir, 'nope')]), { name: 'InvalidInputError' })
  })
})

describe('safeJoin', () => {
  it('joins relative names below the directory', () => {
    assert.equal(safeJoin('/restore', 'photos/a.jpg'), '/restore/photos/a.jpg')
    assert.equal(safeJoin('/restore', './photos//été/a.jpg'), '/restore/photos/été/a.jpg')
    assert.equal(safeJoin('/restore', '/etc/passwd'), '/restore/etc/passwd')
  })

  it('refuses names that would escape it, or are empty', () => {
    for (const name of ['..', '../x', 'a/../../x', 'a/..', '', '.', '/']) {
      assert.throws(() => safeJoin('/restore', name), { name: 'InvalidInputError' }, JSON.stringify(name))
    }
  })
})

describe('badName', () => {
  it('takes relative paths that get restores as they are', () => {
    for (const name of ['a.txt', 'photos/2024/a.jpg', 'with space', '.hidden', 'a..b', 'ü/日本']) assert.equal(badName(name), undefined, name)
  })

  it('says why for names get could not restore as they are', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/], ['/etc/passwd', /relative/], ['x/', /end in \//], ['../up', /\.\./], ['a/../../b', /\.\./],
      ['.', /\./], ['a//b', /empty/], ['a/./b', /\./], ['line\nbreak', /control/]
    ]
    for (const [name, why] of cases) assert.match(badName(name) ?? 'accepted', why, JSON.stringify(name))
  })
})
