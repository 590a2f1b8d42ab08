/**
 * Extracts a zip archive with nothing but node:zlib. It exists for one job:
 * unpacking the Go toolchain that go-bootstrap.ts fetches from the Go module
 * proxy on a machine without Go, where no unzip tool can be assumed either.
 * It handles what module zips contain (stored or deflated entries, Unix
 * modes) and refuses anything else by name.
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { inflateRawSync } from "node:zlib";

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
/** "Version made by" high byte for archives written on Unix: the external attributes hold a mode. */
const MADE_ON_UNIX = 3;

/** One archive entry, as the central directory describes it. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Unix permission bits, when the archive recorded them. */
  mode: number | undefined;
}

function fail(archive: string, why: string): never {
  throw new Error(`zip archive ${archive}: ${why}`);
}

/** Lists the entries of a zip archive held in memory. */
export function readZipEntries(zip: Buffer, archive = "(in memory)"): ZipEntry[] {
  // The end record is 22 bytes plus a comment of at most 64 KiB.
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) fail(archive, "no end-of-central-directory record; the file is not a zip or is truncated");
  const count = zip.readUInt16LE(end + 10);
  const directoryOffset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff) fail(archive, "zip64 archives are not supported");
  const entries: ZipEntry[] = [];
  let at = directoryOffset;
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== CENTRAL_DIRECTORY_ENTRY) fail(archive, `central directory entry ${n} is malformed`);
    const madeBy = zip.readUInt16LE(at + 4) >> 8;
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const externalAttributes = zip.readUInt32LE(at + 38);
    const entry: ZipEntry = {
      name: zip.toString("utf8", at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
      mode: madeBy === MADE_ON_UNIX ? (externalAttributes >>> 16) & 0o7777 : undefined,
    };
    if (entry.compressedSize === 0xffffffff || entry.localHeaderOffset === 0xffffffff) {
      fail(archive, `entry ${entry.name} needs zip64, which is not supported`);
    }
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of one entry. */
export function readZipEntry(zip: Buffer, entry: ZipEntry, archive = "(in memory)"): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== LOCAL_FILE_HEADER) fail(archive, `local header of ${entry.name} is malformed`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === STORED) data = Buffer.from(raw);
  else if (entry.method === DEFLATED) data = inflateRawSync(raw);
  else
    fail(
      archive,
      `entry ${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`,
    );
  if (data.length !== entry.size) {
    fail(archive, `entry ${entry.name} unpacked to ${data.length} bytes, the directory says ${entry.size}`);
  }
  return data;
}

/**
 * Extracts every file of the archive at `archivePath` whose name starts with
 * `prefix` into `destination`, with the prefix removed, keeping Unix modes.
 * Names that would escape `destination` are refused.
 */
export async function extractZip(archivePath: string, destination: string, prefix = ""): Promise<number> {
  const zip = await readFile(archivePath);
  let written = 0;
  for (const entry of readZipEntries(zip, archivePath)) {
    if (!entry.name.startsWith(prefix) || entry.name.endsWith("/")) continue;
    const relativeName = entry.name.slice(prefix.length);
    const normalized = normalize(relativeName);
    if (isAbsolute(relativeName) || normalized.startsWith(`..${sep}`) || normalized === "..") {
      fail(archivePath, `entry ${JSON.stringify(entry.name)} would be written outside ${destination}`);
    }
    const target = join(destination, normalized);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, readZipEntry(zip, entry, archivePath));
    if (entry.mode) await chmod(target, entry.mode);
    written++;
  }
  return written;
}
