import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseSize, formatSize } from '../../src/util/size.js'

describe('parseSize', () => {
  it('reads byte counts, as numbers and as text', () => {
    assert.equal(parseSize(0), 0)
    assert.equal(parseSize('0'), 0)
    assert.equal(parseSize(1234), 1234)
    assert.equal(parseSize('1234'), 1234)
    assert.equal(parseSize('1234B'), 1234)
  })

  it('reads decimal units as powers of 1000', () => {
    assert.equal(parseSize('1k'), 1000)
    assert.equal(parseSize('1KB'), 1000)
    assert.equal(parseSize('500MB'), 500_000_000)
    assert.equal(parseSize('2GB'), 2_000_000_000)
    assert.equal(parseSize('1TB'), 1e12)
  })

  it('reads binary units as powers of 1024', () => {
    assert.equal(parseSize('1KiB'), 1024)
    assert.equal(parseSize('4MiB'), 4 * 1024 ** 2)
    assert.equal(parseSize('10GiB'), 10 * 1024 ** 3)
    assert.equal(parseSize('1TiB'), 1024 ** 4)
  })

  it('ignores case and white space around the number and unit', () => {
    assert.equal(parseSize('10gib'), 10 * 1024 ** 3)
    assert.equal(parseSize(' 10 GiB '), 10 * 1024 ** 3)
    assert.equal(parseSize('500mb'), 500_000_000)
  })

  it('reads fractions and rounds down to whole bytes', () => {
    assert.equal(parseSize('1.5KiB'), 1536)
    assert.equal(parseSize('0.5GB'), 500_000_000)
    assert.equal(parseSize('1.0001KB'), 1000)
  })

  it('refuses what is not a size', () => {
    for (const bad of ['', 'lots', 'MB', '-1', '-1MB', '10 XB', '1e3', '1,000', '10GiBs', '0x10', '1.5.2MB']) {
      assert.equal(parseSize(bad), undefined, JSON.stringify(bad))
    }
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.equal(parseSize(bad), undefined, String(bad))
    }
  })

  it('refuses sizes beyond a safe integer', () => {
    assert.equal(parseSize('99999999999TiB'), undefined)
  })
})

describe('formatSize', () => {
  it('prints bytes below 1 KiB as they are', () => {
    assert.equal(formatSize(0), '0 B')
    assert.equal(formatSize(1023), '1023 B')
  })

  it('prints larger sizes with a binary unit and one decimal', () => {
    assert.equal(formatSize(1024), '1.0 KiB')
    assert.equal(formatSize(1536), '1.5 KiB')
    assert.equal(formatSize(5 * 1024 ** 2), '5.0 MiB')
    assert.equal(formatSize(10 * 1024 ** 3), '10.0 GiB')
    assert.equal(formatSize(2 * 1024 ** 4), '2.0 TiB')
    assert.equal(formatSize(3 * 1024 ** 5), '3072.0 TiB')
  })

  it('round-trips with parseSize for whole binary units', () => {
    for (const text of ['1.0 KiB', '7.0 MiB', '10.0 GiB']) {
      assert.equal(formatSize(parseSize(text.replace(' ', '')) as number), text)
    }
  })
})
