// Builds the offline GraphQL playground into ../dist (or the directory given
// as the first argument). The output is deterministic: the same sources and
// lockfile give byte-identical files, which `scripts/build-playground.sh
// --check` relies on.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outRoot = path.resolve(process.argv[2] || path.join(here, '..', 'dist'));
const assets = path.join(outRoot, 'assets');
if (path.basename(outRoot) !== 'dist') {
  // The directory is emptied first; refuse anything not named like ../dist.
  console.error(`build.mjs: the output directory must be named dist, not ${outRoot}`);
  process.exit(2);
}

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  target: ['es2022', 'chrome111', 'firefox111', 'safari16.4'],
  legalComments: 'none',
  logLevel: 'warning',
  charset: 'utf8',
  define: { 'process.env.NODE_ENV': '"production"' },
};

// graphiql/style.css already contains Monaco's styles; drop the per-module
// CSS imports of monaco-editor's ESM sources so they are not bundled twice.
const dropMonacoCSS = {
  name: 'drop-monaco-css',
  setup(build) {
    build.onResolve({ filter: /\.css$/ }, (args) =>
      args.importer.includes(`${path.sep}monaco-editor${path.sep}`)
        ? { path: args.path, namespace: 'empty-css' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'empty-css' }, () => ({
      contents: '',
      loader: 'js',
    }));
  },
};

const extFor = {
  'font/woff2': 'woff2',
  'font/woff': 'woff',
  'font/ttf': 'ttf',
  'image/png': 'png',
  'image/svg+xml': 'svg',
  'image/gif': 'gif',
};

// Moves base64 data: URLs out of the stylesheet into content-named files
// (fonts/, img/): default-src 'self' does not allow data: fonts or images.
async function extractDataURLs(cssFile) {
  let css = await readFile(cssFile, 'utf8');
  const written = new Map();
  css = css.replace(
    /url\((["']?)data:([a-z0-9.+\/-]+)(;charset=[^;,]+)?(;base64)?,([^"')]*)\1\)/gi,
    (whole, _q, mime, _cs, b64, payload) => {
      const ext = extFor[mime.toLowerCase()];
      if (!ext) {
        throw new Error(`unexpected data: URL of type ${mime} in ${cssFile}`);
      }
      const bytes = b64
        ? Buffer.from(payload, 'base64')
        : Buffer.from(decodeURIComponent(payload), 'utf8');
      const sum = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      const dir = mime.startsWith('font/') ? 'fonts' : 'img';
      const rel = `${dir}/${sum}.${ext}`;
      written.set(rel, bytes);
      return `url(${rel})`;
    },
  );
  for (const [rel, bytes] of [...written].sort()) {
    await mkdir(path.join(path.dirname(cssFile), path.dirname(rel)), {
      recursive: true,
    });
    await writeFile(path.join(path.dirname(cssFile), rel), bytes);
  }
  await writeFile(cssFile, css);
  return written.size;
}

// Collects the license texts of every npm package that ended up in the
// bundle; the minified files carry no license comments of their own.
async function licenses(inputs) {
  const dirs = new Set();
  for (const input of inputs) {
    const m = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
    if (m) dirs.add(m[1]);
  }
  const sections = [];
  for (const dir of [...dirs]) {
    const pkg = JSON.parse(await readFile(path.join(here, dir, 'package.json'), 'utf8'));
    const files = (await readdir(path.join(here, dir)))
      .filter((f) => /^(licen[cs]e|copying|notice)/i.test(f))
      .sort();
    let text = '';
    for (const f of files) {
      text += (await readFile(path.join(here, dir, f), 'utf8')).trim() + '\n';
    }
    if (!text) text = `License: ${pkg.license || 'see the package'}\n`;
    sections.push(`${pkg.name}@${pkg.version} (${pkg.license || 'unknown'})\n\n${text}`);
  }
  sections.sort();
  return (
    'Third-party software bundled in the GraphQL playground\n' +
    '=======================================================\n\n' +
    sections.join('\n' + '-'.repeat(72) + '\n\n')
  );
}

async function main() {
  await rm(outRoot, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });

  const inputs = new Set();
  const collect = (result) => {
    for (const out of Object.values(result.metafile.outputs)) {
      for (const input of Object.keys(out.inputs)) inputs.add(input);
    }
  };

  collect(await esbuild.build({
    ...common,
    metafile: true,
    entryPoints: { main: 'src/main.jsx' },
    outdir: assets,
    // ESM with code splitting: Monaco and Prettier are imported lazily by
    // GraphiQL and end up in content-named chunks loaded after first paint.
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    jsx: 'automatic',
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
    assetNames: 'fonts/[name]-[hash]',
    plugins: [dropMonacoCSS],
  }));

  collect(await esbuild.build({
    ...common,
    metafile: true,
    entryPoints: {
      'workers/editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'workers/json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'workers/graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    outdir: assets,
    format: 'iife',
  }));

  await writeFile(
    path.join(assets, 'THIRD_PARTY_LICENSES.txt'),
    await licenses(inputs),
  );

  const n = await extractDataURLs(path.join(assets, 'main.css'));

  await writeFile(
    path.join(assets, 'favicon.svg'),
    await readFile(path.join(here, 'src', 'favicon.svg')),
  );

  const files = [];
  async function walk(dir) {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else files.push(p);
    }
  }
  await walk(outRoot);
  let total = 0;
  for (const f of files) {
    const size = (await readFile(f)).length;
    total += size;
  }
  console.log(
    `playground: ${files.length} files, ${(total / 1024).toFixed(0)} KiB in ${path.relative(process.cwd(), outRoot) || '.'} (${n} fonts/images moved out of main.css)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
