// Runs before every test file. The suite shares one module graph per worker (isolate: false,
// which saves most of the per-file import time), so state a file may leave behind in the shared
// modules is put back here, before the next file is collected (files build tensors while
// collecting, on whatever backend is current): the current backend and a forced sgemm build.
import { forceWasmSgemmVariant, setBackend } from '@whittle/tensor';

forceWasmSgemmVariant(null);
await setBackend('cpu');
