import '@whittle/tensor/node';
import { runCase } from './runner.js';
try { await runCase(process.argv[2]!, 'cpu'); console.log('ok'); } catch (e) { console.log(e); }
