/**
 * Mutations of ONNX model bytes for fuzzing: raw byte damage (bit flips, truncation, splices) and
 * structure-aware damage through the wire tree (varints set to extreme values, fields dropped or
 * duplicated, tensors whose dims and data disagree, bogus external-data entries, rewired nodes
 * that form cycles or read undefined values). Deterministic for a given Rng state.
 */
import type { Rng } from '@whittle/tensor';
import { decodeWire, encodeWire, walk, type WireField } from './wire.js';

export interface Mutation {
  bytes: Uint8Array;
  /** What was done, for reproducing a failure. */
  description: string;
}

/** Locations an attacker (or a broken exporter) might put in external_data. */
export const BOGUS_LOCATIONS = ['/etc/passwd', '../secret.bin', 'sub/../../x.bin', 'C:\\weights.bin', '\\\\server\\share', '', 'a\0b', 'missing.bin', 'weights.bin', 'weights.bin/'];
const BOGUS_NUMBERS = ['0', '1', '-1', '1e9', 'abc', '18446744073709551615', '9007199254740993', '4', '64', ''];
const VARINTS = [0n, 1n, 2n, 7n, 16n, 255n, 65535n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n];

const enc = new TextEncoder();
const int = (rng: Rng, n: number): number => Math.floor(rng.uniform() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)]!;
const str = (num: number, s: string): WireField => ({ num, wire: 2, value: enc.encode(s) });

function bitFlips(b: Uint8Array, rng: Rng): Mutation {
  const out = b.slice();
  const n = 1 + int(rng, 8);
  for (let i = 0; i < n; i++) {
    const at = int(rng, out.length);
    out[at] = out[at]! ^ (1 << int(rng, 8));
  }
  return { bytes: out, description: `flip ${n} bits` };
}

function truncate(b: Uint8Array, rng: Rng): Mutation {
  const at = int(rng, b.length);
  return { bytes: b.slice(0, at), description: `truncate to ${at} of ${b.length} bytes` };
}

function splice(b: Uint8Array, rng: Rng): Mutation {
  const at = int(rng, b.length);
  const del = int(rng, 16);
  const ins = Uint8Array.from({ length: int(rng, 16) }, () => int(rng, 256));
  const out = new Uint8Array(b.length - Math.min(del, b.length - at) + ins.length);
  out.set(b.subarray(0, at));
  out.set(ins, at);
  out.set(b.subarray(Math.min(b.length, at + del)), at + ins.length);
  return { bytes: out, description: `splice at ${at}: -${del} +${ins.length} bytes` };
}

type Tree = WireField[];
type Site = ReturnType<typeof walk>[number];

function varintField(tree: Tree, rng: Rng): string | null {
  const sites = walk(tree).filter((s) => s.field.wire === 0);
  if (!sites.length) return null;
  const s = pick(rng, sites);
  const v = rng.uniform() < 0.8 ? pick(rng, VARINTS) : BigInt(int(rng, 1 << 30));
  s.field.value = v;
  return `${s.parent}.${s.field.num} := ${v}`;
}

function dropOrDuplicate(tree: Tree, rng: Rng): string | null {
  const sites = walk(tree);
  if (!sites.length) return null;
  const s = pick(rng, sites);
  if (rng.uniform() < 0.5) {
    s.list.splice(s.index, 1);
    return `drop ${s.parent}.${s.field.num}`;
  }
  s.list.splice(s.index, 0, structuredClone(s.field));
  return `duplicate ${s.parent}.${s.field.num}`;
}

function bytesField(tree: Tree, rng: Rng): string | null {
  const sites = walk(tree).filter((s) => s.field.wire === 2 && !Array.isArray(s.field.value));
  if (!sites.length) return null;
  const s = pick(rng, sites);
  const v = s.field.value as Uint8Array;
  const cut = int(rng, v.length + 1);
  s.field.value = rng.uniform() < 0.5 ? v.slice(0, cut) : Uint8Array.from([...v, ...Array.from({ length: 1 + int(rng, 9) }, () => int(rng, 256))]);
  return `resize ${s.parent}.${s.field.num} from ${v.length} to ${(s.field.value as Uint8Array).length} bytes`;
}

const tensors = (tree: Tree): Site[] => walk(tree).filter((s) => s.field.type === 'Tensor');

function tensorDims(tree: Tree, rng: Rng): string | null {
  const ts = tensors(tree);
  if (!ts.length) return null;
  const t = pick(rng, ts).field.value as WireField[];
  const kept = t.filter((f) => f.num !== 1);
  const rank = int(rng, 5);
  const dims = Array.from({ length: rank }, () => (rng.uniform() < 0.3 ? pick(rng, VARINTS) : BigInt(int(rng, 100))));
  t.splice(0, t.length, ...dims.map((value): WireField => ({ num: 1, wire: 0, value })), ...kept);
  return `tensor dims := [${dims.join(',')}]`;
}

function tensorData(tree: Tree, rng: Rng): string | null {
  const ts = tensors(tree);
  if (!ts.length) return null;
  const t = pick(rng, ts).field.value as WireField[];
  if (rng.uniform() < 0.4) {
    const dt = BigInt(int(rng, 27));
    const f = t.find((x) => x.num === 2);
    if (f) f.value = dt;
    else t.push({ num: 2, wire: 0, value: dt });
    return `tensor data_type := ${dt}`;
  }
  const raw = t.find((x) => x.num === 9);
  const n = int(rng, 64);
  if (raw) raw.value = (raw.value as Uint8Array).slice(0, Math.max(0, (raw.value as Uint8Array).length - 1 - n));
  else t.push({ num: 9, wire: 2, value: new Uint8Array(n) });
  return raw ? 'tensor raw_data shortened' : `tensor raw_data := ${n} bytes`;
}

function externalData(tree: Tree, rng: Rng): string | null {
  const ts = tensors(tree);
  if (!ts.length) return null;
  const t = pick(rng, ts).field.value as WireField[];
  const kept = t.filter((f) => f.num === 1 || f.num === 2 || f.num === 8);
  const location = pick(rng, BOGUS_LOCATIONS);
  const entry = (k: string, v: string): WireField => ({ num: 13, wire: 2, type: 'StringEntry', value: [str(1, k), str(2, v)] });
  const entries = [entry('location', location)];
  if (rng.uniform() < 0.7) entries.push(entry('offset', pick(rng, BOGUS_NUMBERS)));
  if (rng.uniform() < 0.7) entries.push(entry('length', pick(rng, BOGUS_NUMBERS)));
  if (rng.uniform() < 0.2) entries.push(entry('checksum', 'x'));
  t.splice(0, t.length, ...kept, ...entries, { num: 14, wire: 0, value: rng.uniform() < 0.9 ? 1n : 7n });
  return `external_data ${JSON.stringify(entries.map((e) => new TextDecoder().decode((e.value as WireField[])[1]!.value as Uint8Array)))}`;
}

function rewire(tree: Tree, rng: Rng): string | null {
  const nodes = walk(tree).filter((s) => s.field.type === 'Node').map((s) => s.field.value as WireField[]);
  const outputs = nodes.flatMap((n) => n.filter((f) => f.num === 2));
  const inputs = nodes.flatMap((n) => n.filter((f) => f.num === 1));
  if (!inputs.length) return null;
  const target = pick(rng, inputs);
  const from = rng.uniform() < 0.7 && outputs.length ? (pick(rng, outputs).value as Uint8Array) : enc.encode(`undefined_${int(rng, 99)}`);
  target.value = from;
  return `node input := '${new TextDecoder().decode(from)}'`;
}

const STRUCTURED = [varintField, dropOrDuplicate, bytesField, tensorDims, tensorData, externalData, rewire] as const;

/** One random mutation of `bytes` (never modifies `bytes`). */
export function mutate(bytes: Uint8Array, rng: Rng): Mutation {
  const r = rng.uniform();
  if (r < 0.15) return bitFlips(bytes, rng);
  if (r < 0.22) return truncate(bytes, rng);
  if (r < 0.3) return splice(bytes, rng);
  let tree: Tree;
  try {
    tree = decodeWire(bytes);
  } catch {
    return bitFlips(bytes, rng);
  }
  const f = pick(rng, STRUCTURED);
  const what = f(tree, rng) ?? 'no-op';
  // a second structural mutation now and then, to get past the first check a reader makes
  const more = rng.uniform() < 0.25 ? `; ${pick(rng, STRUCTURED)(tree, rng) ?? 'no-op'}` : '';
  return { bytes: encodeWire(tree), description: `${f.name}: ${what}${more}` };
}
