#!/usr/bin/env node
// What the Dockerfile's stages run to put only what an image needs into it (node only, no dependencies):
//   node scripts/image.mjs manifests <to>                 package.json, lockfile and .npmrc of the root and of
//                                                          every workspace, at their paths (npm ci's inputs)
//   node scripts/image.mjs workspaces <pkg>...            the workspace folders of these packages and of the
//                                                          workspace packages they depend on, one a line
//   node scripts/image.mjs copy-workspaces <to> <pkg>...  package.json and the "files" of each of those folders
//   node scripts/image.mjs copy-closure <to> <pkg>...     these installed packages and everything they need at
//                                                          run time (dependencies, optional ones installed for
//                                                          this platform, required peers), at their node_modules paths
//   node scripts/image.mjs prune <node_modules> [<pkg>...] drops what nothing runs: types, sources, source maps,
//                                                          docs, native builds for other platforms or runtimes,
//                                                          links to workspaces other than <pkg>... and theirs
// Paths are relative to the current directory (the repository root, or /app in the image).
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const [command, ...args] = process.argv.slice(2);
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * Workspace folders (from the root package.json's `workspaces`: globs of the form `dir/*` or plain folders
 * such as `operator`) by package name.
 */
function workspaceFolders() {
  const patterns = readJson('package.json').workspaces ?? [];
  const folders = new Map();
  const add = (folder) => {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) folders.set(readJson(manifest).name, folder);
  };
  for (const pattern of patterns) {
    if (pattern.includes('*') && !pattern.endsWith('/*'))
      throw new Error(`workspace pattern ${pattern} is neither dir/* nor a folder`);
    if (!pattern.endsWith('/*')) {
      add(pattern);
      continue;
    }
    const parent = pattern.slice(0, -2);
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true }))
      if (entry.isDirectory()) add(join(parent, entry.name));
  }
  return folders;
}

function workspaceClosure(names) {
  const folders = workspaceFolders();
  const seen = new Set();
  const visit = (name) => {
    const folder = folders.get(name);
    if (folder === undefined) throw new Error(`${name} is not a workspace package`);
    if (seen.has(folder)) return;
    seen.add(folder);
    for (const dep of Object.keys(readJson(join(folder, 'package.json')).dependencies ?? {})) {
      if (folders.has(dep)) visit(dep);
    }
  };
  names.forEach(visit);
  return [...seen].sort();
}

/** Where Node would find package `name` from the package folder `from` (its node_modules, then its parents'). */
function resolvePackage(from, name) {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

const glibc = Boolean(process.report?.getReport().header.glibcVersionRuntime);

/** Whether a package's `os`, `cpu` and `libc` fields admit this machine (optional native builds name theirs). */
function fitsHere(manifest) {
  const admits = (list, value) =>
    list === undefined ||
    (list.includes(value) ? true : !list.some((v) => !v.startsWith('!')) && !list.includes(`!${value}`));
  return (
    admits(manifest.os, process.platform) &&
    admits(manifest.cpu, process.arch) &&
    admits(manifest.libc, glibc ? 'glibc' : 'musl')
  );
}

/**
 * An optional dependency named for another platform (`…-darwin-arm64`, `…-linux-x64-musl`): such native builds
 * do not always say so in `os` and `cpu`, and npm installs them all.
 */
function otherPlatform(name) {
  const match =
    /-(darwin|win32|linux|android|freebsd|openbsd|sunos|aix)-(x64|arm64|arm|ia32|riscv64|ppc64|s390x)(?:-(gnu|musl|msvc|gnueabihf))?$/.exec(
      name,
    );
  if (match === null) return false;
  const [, os, cpu, abi] = match;
  const libc = glibc ? 'gnu' : 'musl';
  return os !== process.platform || cpu !== process.arch || (abi !== undefined && abi !== libc);
}

function packageClosure(names) {
  const seen = new Set();
  const visit = (folder) => {
    if (seen.has(folder)) return;
    seen.add(folder);
    const manifest = readJson(join(folder, 'package.json'));
    if (!fitsHere(manifest)) {
      seen.delete(folder);
      return;
    }
    const optionalPeers = manifest.peerDependenciesMeta ?? {};
    const wanted = [
      ...Object.keys(manifest.dependencies ?? {}).map((name) => [name, false]),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => [name, true]),
      ...Object.keys(manifest.peerDependencies ?? {}).map((name) => [
        name,
        optionalPeers[name]?.optional === true,
      ]),
    ];
    for (const [name, optional] of wanted) {
      if (optional && otherPlatform(name)) continue;
      const found = resolvePackage(folder, name);
      if (found !== undefined) visit(found);
      else if (!optional) throw new Error(`${relative('.', folder)} needs ${name}, which is not installed`);
    }
  };
  for (const name of names) {
    const found = resolvePackage('.', name);
    if (found === undefined) throw new Error(`${name} is not installed`);
    visit(found);
  }
  return [...seen].map((folder) => relative('.', folder)).sort();
}

const PRUNED_FILES = /\.(d\.[cm]?ts|[cm]?ts|map|md|markdown|bare)$/i;

function prune(root, keep) {
  const platform = `${process.platform}-${process.arch}`;
  // npm links every workspace; with `keep` (package names), only the links to those and to the workspace
  // packages they depend on stay.
  const folders = workspaceFolders();
  const kept = new Set(keep.length > 0 ? workspaceClosure(keep).map((f) => resolve(f)) : []);
  const workspaces = new Set([...folders.values()].map((f) => resolve(f)));
  let bytes = 0;
  const remove = (path) => {
    bytes += size(path);
    rmSync(path, { recursive: true, force: true });
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        const target = resolve(dir, readlinkSync(path));
        if (!existsSync(path) || (keep.length > 0 && workspaces.has(target) && !kept.has(target)))
          rmSync(path);
        continue;
      }
      if (entry.isDirectory()) {
        if (entry.name === 'prebuilds') {
          for (const target of readdirSync(path)) if (target !== platform) remove(join(path, target));
        }
        walk(path);
      } else if (PRUNED_FILES.test(entry.name)) remove(path);
    }
  };
  walk(root);
  console.log(`pruned ${(bytes / 1e6).toFixed(1)} MB from ${root}`);
}

function size(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + size(join(path, name)), 0);
}

function copyInto(to, path) {
  mkdirSync(dirname(join(to, path)), { recursive: true });
  cpSync(path, join(to, path), { recursive: true, verbatimSymlinks: true });
}

switch (command) {
  case 'manifests': {
    const [to] = args;
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      if (existsSync(file)) copyInto(to, file);
    for (const folder of workspaceFolders().values()) copyInto(to, join(folder, 'package.json'));
    break;
  }
  case 'workspaces':
    console.log(workspaceClosure(args).join('\n'));
    break;
  case 'copy-workspaces': {
    const [to, ...names] = args;
    for (const folder of workspaceClosure(names)) {
      const manifest = readJson(join(folder, 'package.json'));
      copyInto(to, join(folder, 'package.json'));
      for (const entry of manifest.files ?? []) {
        const path = join(folder, entry);
        if (!existsSync(path))
          throw new Error(`${path} (in the "files" of ${manifest.name}) does not exist: build first`);
        copyInto(to, path);
      }
    }
    break;
  }
  case 'copy-closure': {
    const [to, ...names] = args;
    for (const folder of packageClosure(names)) {
      // A package's own node_modules holds packages of the closure too: copy those one by one.
      mkdirSync(join(to, folder), { recursive: true });
      for (const entry of readdirSync(folder)) {
        if (entry !== 'node_modules') copyInto(to, join(folder, entry));
      }
    }
    break;
  }
  case 'prune':
    if (!statSync(args[0]).isDirectory()) throw new Error(`${args[0]} is not a folder`);
    prune(args[0], args.slice(1));
    break;
  default:
    console.error(
      'usage: node scripts/image.mjs manifests|workspaces|copy-workspaces|copy-closure|prune ...',
    );
    process.exit(2);
}
