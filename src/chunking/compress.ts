// Placeholder until zstd lands: no compression.
export type CompressionMode = 'auto' | 'off'
export const COMPRESSION_LEVEL = 0
export function compressBlob (plain: Uint8Array, _mode: CompressionMode): { bytes: Uint8Array, compressed: boolean } {
  return { bytes: plain, compressed: false }
}
export function decompressBlob (bytes: Uint8Array, plainLength: number): Uint8Array {
  if (bytes.byteLength !== plainLength) throw new Error('cannot decompress')
  return bytes
}
