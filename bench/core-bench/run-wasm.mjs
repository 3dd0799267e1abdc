// Runs core-bench compiled to wasm32-wasip1 in node's V8, to compare the core's speed as wasm
// with its native speed (bench/run.py does this when node is installed).
//   node --no-warnings run-wasm.mjs core-bench.wasm --prompts FILE --config FILE [--json ...]
// Only the directories of the files named on the command line are visible to the module.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { argv, exit } from 'node:process';
import { WASI } from 'node:wasi';

const [wasmPath, ...args] = argv.slice(2);
if (!wasmPath) {
  console.error('usage: node run-wasm.mjs core-bench.wasm [core-bench arguments]');
  exit(2);
}
const files = args.map((a) => (isAbsolute(a) ? a : resolve(a))).filter((a) => existsSync(a));
const preopens = Object.fromEntries(files.map((f) => [dirname(f), dirname(f)]));
const wasmArgs = args.map((a) => (existsSync(a) ? resolve(a) : a));
const wasi = new WASI({ version: 'preview1', args: ['core-bench', ...wasmArgs], env: {}, preopens });
const module = await WebAssembly.compile(await readFile(wasmPath));
// tier-router's proxy-wasm adapter imports host functions (env.proxy_*); the core never calls them.
const env = new Proxy({}, { get: () => () => 0 });
const instance = await WebAssembly.instantiate(module, { ...wasi.getImportObject(), env });
// The proxy-wasm SDK also exports _initialize, which node's WASI refuses next to _start.
const { _start, memory } = instance.exports;
exit(wasi.start({ exports: { _start, memory } }));
