import { crc32 } from "node:zlib";

/** A zip header: signature, "version needed" 2.0 at `at`, then crc, sizes and the name length after it. */
function header(length: number, signature: number, at: number, crc: number, size: number, nameLength: number): Buffer {
  const buffer = Buffer.alloc(length);
  buffer.writeUInt32LE(signature, 0);
  buffer.writeUInt16LE(20, at);
  buffer.writeUInt32LE(crc, at + 10);
  buffer.writeUInt32LE(size, at + 14);
  buffer.writeUInt32LE(size, at + 18);
  buffer.writeUInt16LE(nameLength, at + 22);
  return buffer;
}

/** Writes a zip archive of stored (uncompressed) entries: what the fake GitHub serves as an artifact. */
export function writeZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    // The local header and the central directory entry share these fields, 4 bytes apart.
    const local = header(30, 0x04034b50, 4, crc, data.length, nameBytes.length);
    const central = header(46, 0x02014b50, 6, crc, data.length, nameBytes.length);
    central.writeUInt16LE(20, 4);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
