/**
 * `dsm bridge deploy-contract`: the EVM side of a new bridge, before the bridge service runs. Deploys
 * DsmBridge through `@dsm/bridge/deploy` with the key of --key-file as its admin, --signer as the attesters
 * and DEPLOYER_ROLE for --operator (the bridge service's EVM account, which deploys wrapped tokens). What it
 * prints is the bridge's configuration: the contract address (DSM_BRIDGE_CONTRACT, a DSMCluster's
 * spec.bridge.contractAddress), the deployment block (fromBlock) and the chain id.
 */
import { deployBridgeContract, type DeployedBridge } from '@dsm/bridge/deploy';
import { getAddress } from 'ethers';
import { Option, type Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { parseInteger, parseUrl } from '../options.js';
import { fields } from '../output.js';
import { DEFAULT_RPC_URL, evmFailure, parseEvmAddress, parseEvmKey, readKeyFile } from './bridge.js';

interface DeployContractOptions {
  keyFile: string;
  operator: string;
  signer?: string[];
  threshold: string;
  rpc: string;
}

/** The signers and threshold asked for, checked: distinct addresses, 1 ≤ threshold ≤ signers. */
export function attestation(
  operator: string,
  signers: string[] | undefined,
  threshold: string,
): { signers: string[]; threshold: number } {
  const list = (signers ?? [operator]).map((s) => getAddress(parseEvmAddress('--signer', s)));
  // getAddress gives each address one spelling: a repeat is a repeated string.
  if (new Set(list).size !== list.length)
    throw new UsageError('--signer: an address is given twice', { option: '--signer' });
  return { signers: list, threshold: parseInteger('--threshold', threshold, 1, list.length) };
}

export function renderDeployedBridge(result: DeployedBridge): string {
  return fields([
    ['contract', result.address],
    ['block', result.block],
    ['chain id', result.chainId],
  ]);
}

export function registerBridgeContract(bridge: Command, io: Io): void {
  bridge
    .command('deploy-contract')
    .description(
      "deploy DsmBridge on the EVM chain: --key-file's account is its admin, --operator the bridge's",
    )
    .requiredOption('--key-file <file>', "file holding the deployer's EVM private key (the contract's admin)")
    .requiredOption('--operator <address>', "the bridge service's EVM address (deploys wrapped tokens)")
    .option('--signer <address...>', 'attestation signers (default: --operator)')
    .option('--threshold <n>', 'signatures an attestation needs', '1')
    .addOption(
      new Option('--rpc <url>', 'JSON-RPC URL of the EVM node').env('DSM_EVM_RPC').default(DEFAULT_RPC_URL),
    )
    .action(async (options: DeployContractOptions, command: Command) => {
      const operator = getAddress(parseEvmAddress('--operator', options.operator));
      const { signers, threshold } = attestation(operator, options.signer, options.threshold);
      const rpc = parseUrl('--rpc', options.rpc);
      const ctx = contextOf(command, io);
      const deployer = parseEvmKey(
        '--key-file',
        options.keyFile,
        await readKeyFile('--key-file', options.keyFile),
      );
      let deployed: DeployedBridge;
      try {
        deployed = await deployBridgeContract({
          rpcUrl: rpc,
          deployerKey: deployer.privateKey,
          signers,
          threshold,
          operator,
        });
      } catch (error) {
        throw evmFailure(error, 'deploying DsmBridge', rpc, []);
      }
      ctx.emit(deployed, renderDeployedBridge, (r) => r.address);
    });
}
