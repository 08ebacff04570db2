import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { badName } from '../../src/backup/walk.js'
import { badNodeName } from '../../src/backup/trees.js'

describe('badName (--name)', () => {
  it('takes one path component', () => {
    for (const name of ['notes.txt', 'фото 日本 ü', '.hidden', 'a b']) assert.equal(badName(name), undefined, name)
  })

  it('says why for names get could not restore as they are', () => {
    for (const name of ['', 'a/b', '/abs', '.', '..', 'new\nline', 'tab\t']) assert.equal(typeof badName(name), 'string', JSON.stringify(name))
  })
})

describe('badNodeName (names read from a snapshot)', () => {
  it('refuses what would leave the directory it is restored in', () => {
    for (const name of ['', '.', '..', 'a/b', '../x', 'nul\0']) assert.equal(typeof badNodeName(name), 'string', JSON.stringify(name))
    assert.equal(badNodeName('ok name'), undefined)
  })
})
