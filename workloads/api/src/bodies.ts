/**
 * Request and response bodies of the JSON APIs, one zod schema each: servers parse requests with them,
 * clients validate answers with them, and the OpenAPI documents are generated from them. Amounts are
 * decimal text (base units), ids base32 text (`bafyr4i…`), protocol objects travel as DAG-CBOR or DAG-JSON.
 */
import { isAmountText, SIGNATURE_SUITES, TOKEN_OP_KINDS } from '@dsm/protocol';
import { z } from 'zod';
import { ErrorBody } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Scalars

export const IdText = z.string().meta({ description: 'a DSM id: CIDv1 in base32 (bafyr4i…)' });
export const AmountText = z
  .string()
  .refine(isAmountText, 'an amount as decimal text')
  .meta({ description: 'an amount in base units as decimal text, 0 to 2^256−1' });
export const PositiveAmount = z
  .string()
  .refine((v) => isAmountText(v) && v !== '0', 'a positive amount as decimal text')
  .meta({ description: 'a positive amount in base units as decimal text' });
export const Suite = z.enum(SIGNATURE_SUITES);
export const OpKind = z.enum(['genesis', ...TOKEN_OP_KINDS]);
const Memo = z
  .string()
  .refine(
    (m) => Buffer.byteLength(m, 'utf8') >= 1 && Buffer.byteLength(m, 'utf8') <= 256,
    '1 to 256 UTF-8 bytes',
  );
/** A policy condition as JSON (protocol §6): identities as id text, `coSign.signers` as hex keys. */
const Condition = z.looseObject({ kind: z.string() }).meta({ description: 'a CTPA condition (protocol §6)' });

export const Balance = z.object({ available: AmountText, locked: AmountText });
export const Balances = z.record(z.string(), Balance);

// ---------------------------------------------------------------------------------------------
// Core: requests

export const CreateIdentity = z.strictObject({
  suite: Suite.default('ml-dsa-65'),
  label: z.string().max(200).optional(),
});
export const CreateToken = z.strictObject({
  symbol: z.string().min(1).max(32),
  name: z.string().min(1).max(200),
  decimals: z.number().int().min(0).max(36).default(0),
  initialSupply: AmountText,
  policy: z.strictObject({ conditions: z.array(Condition), description: z.string().optional() }),
  /** 64 hex characters; send the same one when retrying so the token is created once. */
  nonce: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, '32 bytes as 64 hex characters')
    .optional(),
});
export const AmountOp = z.strictObject({ token: z.string(), amount: PositiveAmount });
export const Transfer = z.strictObject({
  token: z.string(),
  amount: PositiveAmount,
  to: z.string(),
  memo: Memo.optional(),
});
export const Lock = z.strictObject({
  token: z.string(),
  amount: PositiveAmount,
  purpose: z.string().max(200).default(''),
});
/** `{transfer}` receives one; `{}` (or no body) receives everything pending. */
export const Receive = z.strictObject({ transfer: z.string().optional() });
export const ValidatePolicy = z.strictObject({
  conditions: z.array(Condition),
  description: z.string().optional(),
  author: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------
// Core: answers

/** The answer to every state-changing operation of a hosted identity. */
export const Accepted = z.object({
  identity: IdText,
  n: z.number().int(),
  stateId: IdText,
  op: OpKind,
  balances: Balances,
  /** Storage nodes holding the state (empty when the answer is a replay). */
  replicas: z.array(z.string()),
  /** This answer is the result of an earlier request (a retry, or a state already accepted). */
  resumed: z.boolean().optional(),
  /** A receive of a transfer that had already been received. */
  alreadyReceived: z.boolean().optional(),
  /** Identity creation. */
  suite: Suite.optional(),
  label: z.string().optional(),
  /** Token creation. */
  token: IdText.optional(),
  policy: IdText.optional(),
});
export const ReceivedAll = z.object({
  identity: IdText,
  received: z.array(Accepted),
  failed: z.array(z.object({ transfer: IdText, error: z.unknown() })),
});
export const HostedIdentity = z.object({
  identity: IdText,
  suite: Suite,
  label: z.string().optional(),
  createdAt: z.string(),
});
export const HostedIdentities = z.object({
  identities: z.array(HostedIdentity),
  /** Several core nodes: the peers (host:port) that did not answer, whose identities are missing here. */
  unreachable: z.array(z.string()).optional(),
});
/** Core node to core node (P2P port): who a node is, and where its client API listens. */
export const CoreNodeInfo = z.object({ nodeId: z.string(), apiPort: z.number().int().min(1).max(65535) });
/** Core node to core node: whether that node hosts an identity (its keys are in its keystore). */
export const CoreHosts = CoreNodeInfo.extend({ identity: IdText, hosted: z.boolean() });
/** Core node to core node: the identities that node itself hosts. */
export const CoreHostedList = CoreNodeInfo.extend({ identities: z.array(HostedIdentity) });
export const IdentityDetails = z.object({
  identity: IdText,
  suite: Suite,
  label: z.string().optional(),
  hosted: z.boolean(),
  n: z.number().int().nullable(),
  stateId: IdText.nullable(),
  balances: Balances,
  forked: z.boolean(),
  /** The id of a state signed but not yet durable on the storage nodes. */
  pending: IdText.nullable(),
});
export const IdentityBalances = z.object({ identity: IdText, n: z.number().int(), balances: Balances });
export const ChainPage = z.object({
  identity: IdText,
  states: z.array(z.object({ n: z.number().int(), stateId: IdText })),
});
export const InboxEntry = z.object({
  transfer: IdText,
  seq: z.number().int(),
  from: IdText,
  token: IdText,
  amount: AmountText,
  memo: z.string().optional(),
  received: z.boolean(),
  receivedBy: IdText.optional(),
});
export const Inbox = z.object({ identity: IdText, entries: z.array(InboxEntry) });
export const TransferEntry = InboxEntry.omit({ seq: true }).extend({ to: IdText });
export const ForkEvidence = z.object({
  identity: IdText.optional(),
  n: z.number().int(),
  existing: IdText,
  candidate: IdText,
});
export const Forks = z.object({ identity: IdText, forked: z.boolean(), evidence: z.array(ForkEvidence) });
export const Supply = z.object({ issued: AmountText, burned: AmountText });
export const TokenInfo = z.object({
  token: IdText,
  issuer: IdText,
  symbol: z.string(),
  name: z.string(),
  decimals: z.number().int(),
  initialSupply: AmountText,
  policy: IdText,
  created: z.boolean(),
  supply: Supply.nullable(),
});
export const PolicyCheck = z.object({
  valid: z.literal(true),
  anchor: IdText,
  conditions: z.array(z.string()),
});
export const Operations = z.object({ operations: z.array(z.string()) });

// ---------------------------------------------------------------------------------------------
// Storage: answers

export const WriteAck = z.object({
  id: IdText,
  type: z.string(),
  /** False when the node already held it (the write is idempotent). */
  stored: z.boolean(),
  replicas: z.array(z.string()),
  identity: IdText.optional(),
  n: z.number().int().optional(),
});
/** A storage node's nudge: transfers arrived for these recipients (none named: look at every inbox). */
export const InboxNotification = z.looseObject({ recipients: z.array(IdText).max(1024).optional() });
/** One object's outcome in a batch: its acknowledgement, or the error a single write would have answered. */
export const WriteResults = z.object({ results: z.array(z.union([WriteAck, ErrorBody])) });
/** One pushed object's outcome at a peer: held on disk, or the error. */
export const PushResults = z.object({
  results: z.array(z.union([z.object({ held: z.literal(true) }), ErrorBody])),
});
export const Head = z.object({ identity: IdText, n: z.number().int(), stateId: IdText, forked: z.boolean() });
export const TokenRecord = z.object({
  token: IdText,
  created: z.boolean(),
  creation: IdText.optional(),
  supply: Supply.nullable(),
});
export const ForkedIdentities = z.object({ identities: z.array(IdText) });

// ---------------------------------------------------------------------------------------------
// Bridge (port 8768)

export const EvmAddress = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address: 0x and 40 hex characters')
  .meta({ description: 'an EVM address (0x + 40 hex characters)' });
export const EvmHash = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, 'a 32-byte hash: 0x and 64 lowercase hex characters')
  .meta({ description: 'an EVM transaction or block hash (0x + 64 lowercase hex characters)' });
/**
 * receiving → received → minting → minted, or received → refunding → refunded; rejected when the network
 * refuses the bridge's receive (a forked sender, a transfer that is not what the inbox said).
 */
export const DepositStatus = z.enum([
  'receiving',
  'received',
  'minting',
  'minted',
  'refunding',
  'refunded',
  'rejected',
]);
export const WithdrawalStatus = z.enum(['proven', 'releasing', 'released']);

/** DSM → EVM: one transfer to the bridge's identity and what became of it. */
export const Deposit = z.object({
  /** The DSM transfer state id (what the EVM contract records as minted). */
  transfer: IdText,
  from: IdText,
  token: IdText,
  amount: AmountText,
  memo: z.string().optional(),
  status: DepositStatus,
  /** From the memo, when it could be read. */
  chainId: z.number().int().optional(),
  recipient: EvmAddress.optional(),
  /** The bridge's receive state. */
  receive: IdText.optional(),
  wrapped: EvmAddress.optional(),
  mintTx: EvmHash.optional(),
  mintBlock: z.number().int().optional(),
  /** Why it was (or is being) sent back, and the bridge's transfer back. */
  refundReason: z.string().optional(),
  refund: IdText.optional(),
  /** The last error of a step that will be retried. */
  lastError: z.string().optional(),
  /** Gas the bridge paid for the mint (gasUsed × price, wei). */
  gasCost: AmountText.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** EVM → DSM: one BurnToDsm event and its release. */
export const Withdrawal = z.object({
  /** `<txHash>:<logIndex>`. */
  id: z.string(),
  txHash: EvmHash,
  logIndex: z.number().int(),
  blockNumber: z.number().int(),
  blockHash: EvmHash,
  /** The burnt wrapped token and the DSM token it stands for. */
  wrapped: EvmAddress,
  token: IdText,
  from: EvmAddress,
  amount: AmountText,
  recipient: IdText,
  nonce: z.string(),
  status: WithdrawalStatus,
  /** The receipt's Merkle-Patricia proof against the header's receiptsRoot (RLP nodes, hex). */
  receiptsRoot: EvmHash,
  proof: z.array(z.string()),
  /** The bridge's transfer to the recipient. */
  release: IdText.optional(),
  lastError: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const Deposits = z.object({ deposits: z.array(Deposit) });
export const Withdrawals = z.object({ withdrawals: z.array(Withdrawal) });
/** Per DSM token: wrapped supply on the EVM chain = the bridge's DSM balance − what is in flight. */
export const InvariantEntry = z.object({
  token: IdText,
  wrapped: EvmAddress,
  /** The bridge identity's available balance of the token. */
  dsmBalance: AmountText,
  /** totalSupply of the wrapped token at `block`. */
  wrappedSupply: AmountText,
  /** Deposits received and not yet minted by `block`, withdrawals burnt by `block` and not released. */
  inFlight: AmountText,
  /** dsmBalance − wrappedSupply − inFlight as signed decimal text; anything but "0" is a fault. */
  gap: z.string(),
  block: z.number().int(),
});
export const BridgeToken = z.object({
  token: IdText,
  wrapped: EvmAddress,
  symbol: z.string(),
  name: z.string(),
  decimals: z.number().int(),
});
export const BridgeTokens = z.object({ tokens: z.array(BridgeToken) });
export const DeployToken = z.strictObject({ token: z.string() });
export const DeployedToken = BridgeToken.extend({
  /** False when the wrapped token already existed. */
  deployed: z.boolean(),
  txHash: EvmHash.optional(),
});
export const BridgeStatus = z.object({
  service: z.literal('dsm-bridge'),
  version: z.string(),
  /** The bridge's own DSM identity: send deposits here with memo `evm:<chainId>:<0x recipient>`. */
  identity: IdText,
  chainId: z.number().int(),
  contract: EvmAddress,
  confirmations: z.number().int(),
  evm: z.object({
    reachable: z.boolean(),
    head: z.number().int().nullable(),
    lastProcessedBlock: z.number().int().nullable(),
    /** Blocks between the head and the last processed block. */
    lag: z.number().int().nullable(),
    lastError: z.string().optional(),
  }),
  dsm: z.object({ reachable: z.boolean(), n: z.number().int().nullable(), lastError: z.string().optional() }),
  /** Addresses whose attestations this bridge signs, and the contract's signer set and threshold. */
  attesters: z.array(EvmAddress),
  signers: z.array(EvmAddress),
  threshold: z.number().int(),
  pending: z.object({ deposits: z.number().int(), withdrawals: z.number().int() }),
  /** Set when processing stopped (a reorg deeper than the confirmation depth): what and where. */
  halted: z.object({ reason: z.string(), block: z.number().int(), at: z.string() }).nullable(),
  invariant: z.array(InvariantEntry),
});

// ---------------------------------------------------------------------------------------------
// Every service

/** `/v1/status`: `service` tells which one answered; the rest is the service's own. */
export const Status = z.looseObject({ service: z.string(), version: z.string() });

/** Storage admin: a backup restored into this node. */
export const BackupCounts = z.object({
  objects: z.number().int(),
  evidence: z.number().int(),
  identities: z.number().int(),
  tokens: z.number().int(),
  forked: z.number().int(),
});
export const RestoreReport = z.object({
  /** Id of the archive's manifest (its root). */
  root: IdText,
  /** The node the backup was taken of, and when. */
  nodeId: z.string(),
  createdAt: z.string(),
  counts: BackupCounts,
  digest: z.string(),
  /** Archive bytes read and seconds taken. */
  bytes: z.number().int(),
  seconds: z.number(),
});

/** Admin: one peer of a node (a core's storage nodes, a storage node's replication peers). */
export const Peer = z.object({
  address: z.string(),
  up: z.boolean(),
  nodeId: z.string().optional(),
  /** Storage: their log entries this node has not taken yet. */
  behind: z.number().optional(),
  lagSeconds: z.number().optional(),
  lastSyncAt: z.string().optional(),
  lastError: z.string().optional(),
});
export const Peers = z.object({ peers: z.array(Peer) });
export const AddPeer = z.strictObject({ peer: z.string() });
export const PeerChange = z.object({
  peer: z.string(),
  /** Whether the list changed (false: it was already there, or not there to remove). */
  changed: z.boolean(),
  peers: z.array(z.string()),
});
export const ConfigValues = z.record(z.string(), z.unknown());

/**
 * The named bodies, by name: the OpenAPI documents list them once under `components.schemas` and refer
 * to them from every route.
 */
export const namedBodies = z.registry<{ id: string }>();
for (const [id, schema] of Object.entries({
  Balance,
  Balances,
  CreateIdentity,
  CreateToken,
  AmountOp,
  Transfer,
  Lock,
  Receive,
  ValidatePolicy,
  Accepted,
  ReceivedAll,
  HostedIdentity,
  HostedIdentities,
  CoreNodeInfo,
  CoreHosts,
  CoreHostedList,
  IdentityDetails,
  IdentityBalances,
  ChainPage,
  InboxEntry,
  Inbox,
  TransferEntry,
  ForkEvidence,
  Forks,
  Supply,
  TokenInfo,
  PolicyCheck,
  Operations,
  WriteAck,
  WriteResults,
  PushResults,
  Head,
  TokenRecord,
  ForkedIdentities,
  Status,
  BackupCounts,
  RestoreReport,
  Peer,
  Peers,
  AddPeer,
  PeerChange,
  ConfigValues,
  Deposit,
  Withdrawal,
  Deposits,
  Withdrawals,
  InvariantEntry,
  BridgeToken,
  BridgeTokens,
  DeployToken,
  DeployedToken,
  BridgeStatus,
  Error: ErrorBody,
}))
  namedBodies.add(schema, { id });
