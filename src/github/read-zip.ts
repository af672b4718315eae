import { inflateRawSync } from "node:zlib";

/**
 * Reads the files of a zip archive (stored or deflated entries, as GitHub artifact
 * downloads are) from its central directory.
 *
 * @throws an Error naming what is malformed.
 */
export function readZip(zip: Uint8Array): Map<string, Buffer> {
  const data = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  // The end-of-central-directory record sits in the last 22 bytes plus a comment of up to 64 KiB.
  let end = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`Expected a zip archive, got ${data.length} bytes without an end-of-central-directory record`);
  const files = new Map<string, Buffer>();
  let at = data.readUInt32LE(end + 16);
  for (let count = data.readUInt16LE(end + 10); count > 0; count--) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error(`Expected a central directory entry at byte ${at}`);
    const method = data.readUInt16LE(at + 10);
    const size = data.readUInt32LE(at + 20);
    const nameLength = data.readUInt16LE(at + 28);
    const local = data.readUInt32LE(at + 42);
    const name = data.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + data.readUInt16LE(at + 30) + data.readUInt16LE(at + 32);
    const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
    const raw = data.subarray(start, start + size);
    if (method === 0) files.set(name, Buffer.from(raw));
    else if (method === 8) files.set(name, inflateRawSync(raw));
    else throw new Error(`Expected stored or deflated zip entries, got method ${method} for \`${name}\``);
  }
  return files;
}
