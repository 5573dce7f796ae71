import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

// What a person installing rx-agents gets: `npm pack` once, install the tarball into fresh
// TypeScript apps that have only rxjs + zod (+ @types/node), type-check them strictly with
// `skipLibCheck: false`, run them, bundle one with esbuild, lint the tarball with publint and
// @arethetypeswrong/cli, and try both ends of the zod peer range. Every subpath in package.json
// `exports` is checked; adding one there (plus its `typesVersions` line) is all this spec needs.

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'node_modules', '.bin');
const FIXTURE = join(__dirname, 'consumer', 'app.ts');
/** The app of the optional features llm, llm/testing and restate (bundled to ESM and run). */
const FEATURES_FIXTURE = join(__dirname, 'consumer', 'features.ts');

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly exports: Record<string, string | { readonly types: string; readonly default: string }>;
  readonly typesVersions: Record<string, Record<string, string[]>>;
  readonly peerDependencies: Record<string, string>;
  readonly peerDependenciesMeta: Record<string, { optional?: boolean }>;
  readonly dependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
/** Subpaths of `exports` (`testing`, `sqlite`, …), without `.` and `./package.json`. */
const SUBPATHS = Object.keys(pkg.exports)
  .filter((k) => k.startsWith('./') && k !== './package.json')
  .map((k) => k.slice(2));

/** The apps: one fixture, four module systems. */
const APPS = [
  { name: 'cjs', type: 'commonjs', module: 'nodenext', moduleResolution: 'nodenext', out: 'out/app.js' },
  { name: 'esm-nodenext', type: 'module', module: 'nodenext', moduleResolution: 'nodenext', out: 'out/app.js' },
  { name: 'esm-bundler', type: 'module', module: 'preserve', moduleResolution: 'bundler', out: null },
  { name: 'node10', type: 'commonjs', module: 'commonjs', moduleResolution: 'node10', out: 'out/app.js' },
] as const;

/** The zod versions at the low ends of the peer range (the high end is what the main apps install). */
const ZOD_LOW_ENDS = ['3.25.45', '4.0.0'];

const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'];

/** Runs a command; resolves with its stdout, or fails with everything it printed. */
async function sh(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: cleanEnv() });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`, {
      cause: error,
    });
  }
}

/** The environment without what `npm test` sets for this repo (npm_config_*, ts-node), so apps act alone. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('npm_') && !k.startsWith('TS_NODE') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return env;
}

function writeApp(dir: string, type: string, compilerOptions: Record<string, unknown>, source: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.ts'), source);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        types: ['node'],
        outDir: 'out',
        ...compilerOptions,
      },
      files: ['app.ts'],
    }),
  );
}

/** A folder with its own node_modules: the tarball, rxjs, the given zod, @types/node (and `extra`). Nothing else. */
async function installConsumers(
  dir: string,
  tarball: string,
  zod: string,
  extra: readonly string[] = [],
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true }));
  await sh('npm', [...NPM_INSTALL, tarball, 'rxjs@^7.8', `zod@${zod}`, '@types/node@20', ...extra], dir);
}

/** Bundles `entry` (dir/name.ts) with esbuild's defaults into one ESM file, dir/out/name.mjs: what an app's build does. */
async function bundleEsm(entry: string): Promise<string> {
  const outfile = join(dirname(entry), 'out', `${basename(entry, '.ts')}.mjs`);
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'error' });
  return outfile;
}

/** Work started at once and awaited later by its test: the slow steps (installs, tsc) overlap. */
function started<T>(work: () => Promise<T>): Promise<T> {
  const promise = work();
  promise.catch(() => undefined); // the test that awaits it reports the failure
  return promise;
}

describe('packaging: the published tarball in fresh consumer apps', function () {
  this.timeout(600_000);
  let work: string;
  let tarball: string;
  let consumers: string;
  /** The files in the tarball, as `npm pack --json` lists them. */
  let packedFiles: string[];
  /** Per app: its strict type-check (and run), started in `before`. */
  const checks = new Map<string, Promise<string>>();
  /** Per low end of the zod range: install, type-check, run. */
  const zodEnds = new Map<string, Promise<{ app: string; zod3?: string }>>();
  /** The optional-features app: installed with the Restate SDK, bundled to ESM, run (its output). */
  let features: Promise<string>;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'rx-agents-pack-'));
    // prepack builds dist from scratch; --json gives the file name.
    const out = await sh('npm', ['pack', '--json', '--loglevel=error', '--pack-destination', work], ROOT);
    const packed = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const [first] = packed as [(typeof packed)[number]];
    tarball = join(work, first.filename);
    packedFiles = first.files.map((f) => f.path);
    consumers = join(work, 'consumers');
    const source = readFileSync(FIXTURE, 'utf8');
    for (const zod of ZOD_LOW_ENDS)
      zodEnds.set(
        zod,
        started(() => zodEnd(join(work, `zod-${zod}`), zod, source)),
      );
    features = started(() => featuresApp(join(work, 'features')));
    await installConsumers(consumers, tarball, 'latest');
    for (const app of APPS) {
      const dir = join(consumers, app.name);
      writeApp(
        dir,
        app.type,
        {
          module: app.module,
          moduleResolution: app.moduleResolution,
          ...(app.out === null ? { noEmit: true } : {}),
          // tsc --init's default; zod's own declarations need it under node10 with skipLibCheck: false.
          ...(app.name === 'node10' ? { esModuleInterop: true } : {}),
        },
        source,
      );
      checks.set(
        app.name,
        started(async () => {
          await sh(join(BIN, 'tsc'), ['-p', dir], consumers);
          return app.out === null ? 'consumer ok' : sh('node', [join(dir, app.out)], dir);
        }),
      );
    }
  });

  /** zod at one end of the range: its own install, the fixture importing zod/v4, and zod 3's own schemas refused by name. */
  async function zodEnd(dir: string, zod: string, source: string): Promise<{ app: string; zod3?: string }> {
    await installConsumers(dir, tarball, zod);
    writeApp(
      join(dir, 'app'),
      'module',
      { module: 'nodenext', moduleResolution: 'nodenext' },
      source.replace("from 'zod'", "from 'zod/v4'"),
    );
    await sh(join(BIN, 'tsc'), ['-p', join(dir, 'app')], dir);
    const app = await sh('node', [join(dir, 'app', 'out', 'app.js')], dir);
    if (!zod.startsWith('3.')) return { app };
    const probe = join(dir, 'zod3.cjs');
    writeFileSync(
      probe,
      "const { z } = require('zod');\ntry { require('rx-agents').defineEvent('x', z.object({})); } catch (e) { console.log(e.message); }\n",
    );
    return { app, zod3: await sh('node', [probe], dir) };
  }

  /**
   * llm, llm/testing and restate in one ESM bundle: esbuild's defaults (everything bundled, no
   * `createRequire` banner), then run in plain Node. It crashed at import before ("Dynamic require of
   * \"node:fs\" is not supported"), so this fails if any of those entries requires a Node built-in.
   */
  async function featuresApp(dir: string): Promise<string> {
    await installConsumers(dir, tarball, 'latest', [
      `@restatedev/restate-sdk@${pkg.peerDependencies['@restatedev/restate-sdk']}`,
    ]);
    const app = join(dir, 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    writeFileSync(join(app, 'features.ts'), readFileSync(FEATURES_FIXTURE, 'utf8'));
    return sh('node', [await bundleEsm(join(app, 'features.ts'))], app);
  }

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('every exports subpath has its typesVersions entry (node10) and its entry file lib/<subpath>/index.ts', () => {
    const typesVersions = pkg.typesVersions['*'] ?? {};
    for (const sub of SUBPATHS) {
      expect(pkg.exports[`./${sub}`], sub).to.deep.equal({
        types: `./dist/${sub}/index.d.ts`,
        default: `./dist/${sub}/index.js`,
      });
      expect(typesVersions[sub], `typesVersions["*"]["${sub}"]`).to.deep.equal([`./dist/${sub}/index.d.ts`]);
      expect(readdirSync(join(ROOT, 'lib', sub)), `lib/${sub}`).to.include('index.ts');
    }
    expect(Object.keys(typesVersions).sort()).to.deep.equal([...SUBPATHS].sort());
  });

  it("the README's relative links and images point at files shipped in the tarball; LICENSE matches package.json", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] as string)
      .filter((t) => !/^[a-z]+:|^#/.test(t))
      .map((t) => t.replace(/#.*$/, ''));
    expect(targets.length, 'relative links found').to.be.greaterThan(0);
    expect(targets.filter((t) => !packedFiles.includes(t))).to.deep.equal([]);
    expect(packedFiles).to.include.members(['LICENSE', 'README.md', 'package.json', 'dist/index.js']);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).to.match(/^\s*Apache License\s+Version 2\.0/);
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string }).license).to.equal(
      'Apache-2.0',
    );
  });

  it('zod and rxjs are peer dependencies (one copy, the app’s); optional peers are marked optional', () => {
    expect(pkg.dependencies).to.not.have.property('zod');
    expect(pkg.dependencies).to.not.have.property('rxjs');
    expect(pkg.peerDependencies).to.include({ zod: '^3.25.45 || ^4.0.0', rxjs: '^7.8.0' });
    for (const [name, meta] of Object.entries(pkg.peerDependenciesMeta)) {
      expect(meta.optional, name).to.equal(true);
      expect(pkg.peerDependencies, name).to.have.property(name);
    }
  });

  it('the library imports zod only through `zod/v4` (the entry zod 3.25 and zod 4 share)', async () => {
    const files = await sh('git', ['ls-files', 'lib'], ROOT);
    const bare = files
      .split('\n')
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /^\s*(import|export)[^;]*from 'zod'|require\('zod'\)/m.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(bare, "import { z } from 'zod/v4' in lib/").to.deep.equal([]);
  });

  for (const app of APPS) {
    it(`${app.name}: type-checks strictly with skipLibCheck: false${app.out === null ? '' : ', and runs'}`, async () => {
      expect(await checks.get(app.name)).to.contain('consumer ok');
    });
  }

  it('esm-bundler: bundled by esbuild into one ESM file, runs (no dynamic require of a Node built-in)', async () => {
    const dir = join(consumers, 'esm-bundler');
    expect(await sh('node', [await bundleEsm(join(dir, 'app.ts'))], dir)).to.contain('consumer ok');
  });

  it('llm, llm/testing and restate: an app using them, bundled by esbuild into one ESM file (no banner), runs', async () => {
    // A scripted model's tool loop, record & replay through a real file, a real Restate SDK endpoint
    // answering discovery over HTTP/2, the ingress client meeting a closed port, the server-binary lookup.
    expect(await features).to.contain('features ok');
    // Without the Restate SDK installed, rx-agents/restate still imports; what needs the SDK says so.
    const probe = join(consumers, 'restate-missing.cjs');
    writeFileSync(
      probe,
      [
        "const { defineAgent, InputEvent, MissingPeerDependencyError } = require('rx-agents');",
        "const { agentObject } = require('rx-agents/restate');",
        "const agent = defineAgent({ name: 'a', actions: (action) => [action('s', InputEvent, () => {})] });",
        "try { agentObject(agent); console.log('loaded'); } catch (e) { console.log(e instanceof MissingPeerDependencyError, e.message); }",
        '',
      ].join('\n'),
    );
    expect(await sh('node', [probe], consumers)).to.contain(
      'true agentObject needs the optional peer dependency `@restatedev/restate-sdk`',
    );
  });

  it('the root entry loads no worker_threads / vm / fs / SQLite / OpenTelemetry code, nor any Node built-in', async () => {
    const entry = join(consumers, 'root-only.mjs');
    writeFileSync(entry, "export * from 'rx-agents';\n");
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const ours = inputs
      .filter((f) => f.includes('node_modules/rx-agents/'))
      .map((f) => f.slice(f.indexOf('node_modules/rx-agents/') + 'node_modules/rx-agents/'.length));
    expect(ours).to.include('dist/index.js');
    expect(ours.filter((f) => /^dist\/(workers|observe|sqlite|testing)\/|sqlite/.test(f))).to.deep.equal([]);
    const external = Object.values(result.metafile.inputs).flatMap((i) =>
      i.imports.filter((imp) => imp.external).map((imp) => imp.path),
    );
    expect(external, 'imports left to the runtime').to.deep.equal([]);
    // And at run time in plain Node: no module of an optional feature is loaded by the root.
    const probe = join(consumers, 'cjs', 'probe.cjs');
    writeFileSync(
      probe,
      "require('rx-agents');\nconsole.log(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('rx-agents'))));\n",
    );
    const loaded = JSON.parse(await sh('node', [probe], consumers)) as string[];
    expect(loaded.map((f) => relative(join(consumers, 'node_modules', 'rx-agents'), f))).to.not.satisfy(
      (fs: string[]) => fs.some((f) => /^dist\/(workers|observe|sqlite|testing)\/|sqlite/.test(f)),
    );
  });

  it('publint finds nothing to fix (--strict: warnings count)', async () => {
    const out = await sh(join(BIN, 'publint'), ['run', tarball, '--strict', '--level', 'suggestion'], consumers);
    expect(out).to.contain('All good!');
  });

  it('@arethetypeswrong/cli: every entry point resolves with types under node10, node16 (CJS and ESM) and bundler', async () => {
    const out = await sh(join(BIN, 'attw'), [tarball, '--format', 'json'], consumers);
    const report = JSON.parse(out.slice(out.indexOf('{'))) as {
      problems: Record<string, unknown>;
      analysis: { problems: unknown[]; entrypoints: Record<string, unknown> };
    };
    expect(report.problems).to.deep.equal({});
    expect(report.analysis.problems).to.deep.equal([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).to.deep.equal(
      ['.', ...SUBPATHS.map((s) => `./${s}`), './package.json'].sort(),
    );
  });

  for (const zod of ZOD_LOW_ENDS) {
    it(`zod ${zod}, a low end of the peer range: the app (importing zod/v4) type-checks strictly and runs`, async () => {
      const result = await zodEnds.get(zod);
      expect(result?.app).to.contain('consumer ok');
      if (zod.startsWith('3.')) {
        // zod 3's own schemas (its root entry) are told apart from "not a schema": the message names the cause.
        expect(result?.zod3).to.contain(
          'The schema of event `x` is a zod 3 schema: unsupported version, or two copies of zod',
        );
        expect(result?.zod3).to.contain('npm ls zod');
      }
    });
  }
});
