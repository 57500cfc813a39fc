/**
 * Deploying the EVM side: a DsmBridge whose admin (all three roles) is the deployer, with the given
 * attestation signers and threshold, and DEPLOYER_ROLE for the bridge service's account. `@dsm/bridge/deploy`: what `npm run dev` and the tests use; a
 * production deployment may hand the roles to other accounts afterwards (grantRole / renounceRole).
 */
import { FetchRequest, JsonRpcProvider, Network, NonceManager, Wallet, getAddress } from 'ethers';
import { deployDsmBridge } from './generated/dsm-bridge.js';

export interface DeployedBridge {
  address: string;
  /** The block of the deployment: the bridge's DSM_BRIDGE_FROM_BLOCK. */
  block: number;
  chainId: number;
}

/** The EVM node did not answer: nothing was deployed. */
export class RpcUnavailableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`${url} did not answer eth_chainId (${reason})`);
    this.name = 'RpcUnavailableError';
  }
}

/** The chain id of the node at `url`, asked once (ethers' own detection retries forever in the background). */
async function chainIdOf(url: string, timeoutMs: number): Promise<bigint> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { result?: string; error?: { message: string } };
    if (typeof body.result !== 'string') throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    return BigInt(body.result);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new RpcUnavailableError(url, cause ?? (error as Error).message);
  }
}

export async function deployBridgeContract(options: {
  rpcUrl: string;
  /** Private key of the deployer, who becomes the admin, deployer and pauser. */
  deployerKey: string;
  signers: string[];
  threshold: number;
  /** The bridge service's own EVM account, given DEPLOYER_ROLE so it can deploy wrapped tokens. */
  operator?: string;
}): Promise<DeployedBridge> {
  const network = Network.from(await chainIdOf(options.rpcUrl, 10_000));
  const provider = new JsonRpcProvider(new FetchRequest(options.rpcUrl), network, {
    staticNetwork: network,
    cacheTimeout: -1,
  });
  try {
    const deployer = new NonceManager(new Wallet(options.deployerKey, provider));
    const admin = await deployer.getAddress();
    const bridge = await deployDsmBridge(
      deployer,
      admin,
      options.signers.map((s) => getAddress(s)),
      options.threshold,
    );
    const receipt = await bridge.deploymentTransaction()?.wait();
    if (options.operator !== undefined) {
      const role = await bridge.DEPLOYER_ROLE();
      await (await bridge.grantRole(role, getAddress(options.operator))).wait();
    }
    const { chainId } = await provider.getNetwork();
    return {
      address: getAddress(await bridge.getAddress()),
      block: receipt?.blockNumber ?? (await provider.getBlockNumber()),
      chainId: Number(chainId),
    };
  } finally {
    provider.destroy();
  }
}
