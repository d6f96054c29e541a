/**
 * Entry of a node:worker_threads band thread for streaming MatMulNBits: runs every job it is sent
 * (nbits_band_jobs.ts), reading model data with node:fs, and posts the reply back.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { type BandFiles, type NBitsJob, nbitsJobRunner } from '../nbits_band_jobs.js';

/**
 * A descriptor the calling thread opened on a data file for this thread's 'part' jobs. The
 * calling thread owns it and closes it once this thread has stopped: a terminated worker runs no
 * `finally`, so a descriptor it opened itself could outlive it.
 */
export interface BandFdMessage {
  type: 'fd';
  path: string;
  fd: number;
}

const given = new Map<string, number>();

function reader(fd: number, path: string): (into: Uint8Array, offset: number) => void {
  return (into, offset) => {
    let done = 0;
    while (done < into.length) {
      const n = readSync(fd, into, done, into.length - done, offset + done);
      if (n <= 0) throw new Error(`short read from ${path} at ${offset + done}`);
      done += n;
    }
  };
}

const files: BandFiles = {
  open(path) {
    const owned = given.get(path);
    if (owned !== undefined) return { read: reader(owned, path), close: () => undefined };
    const fd = openSync(path, 'r');
    return { read: reader(fd, path), close: () => closeSync(fd) };
  },
};

const port = parentPort!;
const run = nbitsJobRunner(files);
port.on('message', (m: NBitsJob | BandFdMessage) => {
  if (m.type === 'fd') {
    given.set(m.path, m.fd);
    return;
  }
  const reply = run(m);
  if (reply) port.postMessage(reply);
});
