/**
 * Entry of a node:worker_threads band thread for streaming MatMulNBits: runs every job it is sent
 * (nbits_band_jobs.ts), reading model data with node:fs, and posts the reply back.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { type BandFiles, type NBitsJob, nbitsJobRunner } from '../nbits_band_jobs.js';

const files: BandFiles = {
  open(path) {
    const fd = openSync(path, 'r');
    return {
      read(into, offset) {
        let done = 0;
        while (done < into.length) {
          const n = readSync(fd, into, done, into.length - done, offset + done);
          if (n <= 0) throw new Error(`short read from ${path} at ${offset + done}`);
          done += n;
        }
      },
      close: () => closeSync(fd),
    };
  },
};

const port = parentPort!;
const run = nbitsJobRunner(files);
port.on('message', (job: NBitsJob) => {
  const reply = run(job);
  if (reply) port.postMessage(reply);
});
