/**
 * Entry of a node:worker_threads band thread for streaming MatMulNBits: runs every job it is sent
 * (nbits_band_jobs.ts) and posts the reply back.
 */
import { parentPort } from 'node:worker_threads';
import { type NBitsJob, nbitsJobRunner } from '../nbits_band_jobs.js';

const port = parentPort!;
const run = nbitsJobRunner();
port.on('message', (job: NBitsJob) => {
  const reply = run(job);
  if (reply) port.postMessage(reply);
});
