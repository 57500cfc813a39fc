#!/usr/bin/env node
// Compiles contracts/*.sol from source with the `solc` npm package (standard JSON input; imports of
// `@openzeppelin/contracts/...` resolved from node_modules) and derives, per deployable contract:
//   artifacts/<Contract>.json        ABI and creation bytecode
//   src/generated/<contract>.ts       the ABI `as const`, the bytecode, a typed ethers 6 interface, attach/deploy
// `--write` rewrites them; `--check` (test/generated.test.ts) recompiles and fails, listing them, when a
// committed copy differs byte for byte.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as prettier from 'prettier';

const require = createRequire(import.meta.url);
const solc = require('solc');
const pkg = resolve(import.meta.dirname, '..');
const CONTRACTS = ['DsmBridge', 'WrappedDsmToken'];

/** The compiler input: every .sol under contracts/, keyed `contracts/<file>`. */
function input() {
  const sources = {};
  for (const file of readdirSync(join(pkg, 'contracts'))
    .filter((f) => f.endsWith('.sol'))
    .sort()) {
    sources[`contracts/${file}`] = { content: readFileSync(join(pkg, 'contracts', file), 'utf8') };
  }
  return {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      // No metadata hash in the bytecode: it changes only when the code does.
      metadata: { appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
}

function findImports(path) {
  if (!path.startsWith('@openzeppelin/contracts/')) return { error: `import outside node_modules: ${path}` };
  const root = dirname(require.resolve('@openzeppelin/contracts/package.json'));
  try {
    return { contents: readFileSync(join(root, path.slice('@openzeppelin/contracts/'.length)), 'utf8') };
  } catch (error) {
    return { error: String(error) };
  }
}

export function compile() {
  const output = JSON.parse(solc.compile(JSON.stringify(input()), { import: findImports }));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const found = {};
  for (const file of Object.values(output.contracts)) Object.assign(found, file);
  return CONTRACTS.map((name) => ({
    name,
    abi: found[name].abi,
    bytecode: `0x${found[name].evm.bytecode.object}`,
  }));
}

// ---- typed bindings ---------------------------------------------------------------------------------

const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);
const kebab = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** The TypeScript type ethers 6 accepts for an ABI parameter. */
function inType(p) {
  const array = /^(.*)\[\d*\]$/.exec(p.type);
  if (array) return `Array<${inType({ ...p, type: array[1] })}>`;
  if (p.type === 'tuple') return `{ ${p.components.map((c) => `${c.name}: ${inType(c)}`).join('; ')} }`;
  if (p.type === 'address') return 'AddressLike';
  if (/^u?int\d*$/.test(p.type)) return 'BigNumberish';
  if (p.type === 'bool') return 'boolean';
  if (p.type === 'string') return 'string';
  if (/^bytes\d*$/.test(p.type)) return 'BytesLike';
  throw new Error(`no TypeScript type for ABI type ${p.type}`);
}

/** The TypeScript type ethers 6 returns for an ABI parameter. */
function outType(p) {
  const array = /^(.*)\[\d*\]$/.exec(p.type);
  if (array) return `Array<${outType({ ...p, type: array[1] })}>`;
  if (p.type === 'tuple') return 'Result';
  if (/^u?int\d*$/.test(p.type)) return 'bigint';
  if (p.type === 'bool') return 'boolean';
  if (['address', 'string'].includes(p.type) || /^bytes\d*$/.test(p.type)) return 'string';
  throw new Error(`no TypeScript type for ABI type ${p.type}`);
}

const args = (inputs) => inputs.map((p, i) => `${p.name || `arg${i}`}: ${inType(p)}`).join(', ');

// Members of ethers' BaseContract: a function of the same name is reached through getFunction() only.
const RESERVED = new Set(
  'target interface runner filters fallback connect attach getAddress getDeployedCode waitForDeployment deploymentTransaction getFunction getEvent queryFilter on once emit listenerCount listeners off removeAllListeners addListener removeListener'.split(
    ' ',
  ),
);

async function bindings({ name, abi, bytecode }) {
  const id = lowerFirst(name);
  const functions = abi.filter((e) => e.type === 'function');
  const counts = new Map();
  for (const f of functions) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  const methods = functions
    .filter((f) => counts.get(f.name) === 1 && !RESERVED.has(f.name))
    .map((f) => {
      const view = f.stateMutability === 'view' || f.stateMutability === 'pure';
      const result =
        f.outputs.length === 0 ? 'void' : f.outputs.length === 1 ? outType(f.outputs[0]) : 'Result';
      const sent = view ? result : 'ContractTransactionResponse';
      return `  ${f.name}: BaseContractMethod<[${args(f.inputs)}], ${result}, ${sent}>;`;
    });
  const events = abi
    .filter((e) => e.type === 'event')
    .map((e) => {
      const doc = `/** Arguments of the \`${e.name}\` event. */\n`;
      if (e.inputs.length === 0) return `${doc}export type ${name}${e.name}Event = Record<string, never>;`;
      const fields = e.inputs.map((p) => `  ${p.name}: ${outType(p)};`).join('\n');
      return `${doc}export interface ${name}${e.name}Event {\n${fields}\n}`;
    });
  const ctor = abi.find((e) => e.type === 'constructor')?.inputs ?? [];
  const ctorNames = ctor.map((p, i) => p.name || `arg${i}`);
  const text = `// Generated by workloads/bridge/scripts/generate.mjs from contracts/${name}.sol: do not edit.
// Regenerate with \`npm run contracts -w @dsm/bridge\`; test/generated.test.ts fails when this is stale.
import { Contract, ContractFactory } from 'ethers';
import type {
  AddressLike,
  BaseContract,
  BaseContractMethod,
  BigNumberish,
  BytesLike,
  ContractRunner,
  ContractTransactionResponse,
  Result,
  Signer,
} from 'ethers';

export const ${id}Abi = ${JSON.stringify(abi)} as const;

export const ${id}Bytecode = '${bytecode}';

/** \`${name}\` as an ethers 6 contract, one typed member per (non-overloaded) function. */
export interface ${name} extends BaseContract {
${methods.join('\n')}
}

${events.join('\n\n')}

/** The \`${name}\` at \`address\`. */
export function ${id}At(address: string, runner?: ContractRunner | null): ${name} {
  return new Contract(address, ${id}Abi, runner) as unknown as ${name};
}

/** Deploys a \`${name}\` from \`signer\` and waits until it is mined. */
export async function deploy${name}(signer: Signer${ctor.length ? ', ' : ''}${args(ctor)}): Promise<${name}> {
  const contract = await new ContractFactory(${id}Abi, ${id}Bytecode, signer).deploy(${ctorNames.join(', ')});
  await contract.waitForDeployment();
  return contract as unknown as ${name};
}
`;
  // Unused type imports would fail the lint: keep only the ones the body uses.
  const body = text.slice(text.indexOf('export const'));
  const pruned = text.replace(/^ {2}(\w+),\n/gm, (line, t) =>
    new RegExp(`\\b${t}\\b`).test(body) ? line : '',
  );
  const options = await prettier.resolveConfig(join(pkg, 'src/generated/x.ts'));
  return prettier.format(pruned, { ...options, parser: 'typescript' });
}

export async function generate() {
  const files = new Map();
  for (const contract of compile()) {
    const artefact = { contractName: contract.name, abi: contract.abi, bytecode: contract.bytecode };
    files.set(`artifacts/${contract.name}.json`, `${JSON.stringify(artefact, null, 2)}\n`);
    files.set(`src/generated/${kebab(contract.name)}.ts`, await bindings(contract));
  }
  return files;
}

const mode = process.argv[2];
if (mode === '--write' || mode === '--check') {
  const stale = [];
  for (const [file, text] of await generate()) {
    const path = join(pkg, file);
    let old = null;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      // not written yet
    }
    if (old === text) continue;
    stale.push(file);
    if (mode === '--write') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`wrote workloads/bridge/${file}`);
    }
  }
  if (mode === '--check' && stale.length > 0) {
    console.error(`stale (run npm run contracts -w @dsm/bridge): ${stale.join(', ')}`);
    process.exit(1);
  }
}
