// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {WrappedDsmToken} from "./WrappedDsmToken.sol";

/// @title The EVM side of the DSM bridge.
/// @notice DSM ids are 36 bytes: `0x01711e20` (CIDv1, dag-cbor, BLAKE3, 32 bytes) followed by a 32-byte
/// digest. As the prefix is fixed, a DSM transfer state id and a DSM token id are passed here as `bytes32`:
/// the digest alone. A DSM recipient in `burnToDsm` is the full 36-byte id, checked and emitted as given.
/// Minting needs an EIP-712 `Mint` attestation signed by at least `threshold` bridge signers, the
/// signatures ordered by strictly increasing signer address (so a signer counts once); each DSM transfer
/// state id mints at most once.
contract DsmBridge is AccessControl, Pausable, EIP712 {
    using EnumerableSet for EnumerableSet.AddressSet;

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant DEPLOYER_ROLE = keccak256("DEPLOYER_ROLE");
    bytes32 public constant MINT_TYPEHASH =
        keccak256("Mint(bytes32 dsmTransferId,bytes32 dsmTokenId,address recipient,uint256 amount)");
    bytes4 public constant DSM_ID_PREFIX = 0x01711e20;
    uint256 public constant DSM_ID_LENGTH = 36;

    EnumerableSet.AddressSet private _signers;
    uint256 public threshold;
    /// @notice The nonce the next `BurnToDsm` event carries.
    uint256 public burnNonce;

    /// @notice DSM token id (digest) → its wrapped token.
    mapping(bytes32 dsmTokenId => address token) public wrappedToken;
    /// @notice Wrapped token → DSM token id (digest); zero for a token this bridge did not deploy.
    mapping(address token => bytes32 dsmTokenId) public dsmTokenOf;
    /// @notice DSM transfer state ids (digests) already minted.
    mapping(bytes32 dsmTransferId => bool) public minted;

    event TokenDeployed(bytes32 indexed dsmTokenId, address indexed token, string name, string symbol, uint8 decimals);
    event SignerAdded(address indexed signer);
    event SignerRemoved(address indexed signer);
    event ThresholdChanged(uint256 previousThreshold, uint256 newThreshold);
    event Minted(bytes32 indexed dsmTransferId, address indexed token, address indexed recipient, uint256 amount);
    event BurnToDsm(address indexed token, address indexed from, uint256 amount, bytes dsmRecipient, uint256 indexed nonce);

    error TokenAlreadyDeployed(bytes32 dsmTokenId);
    error UnknownDsmToken(bytes32 dsmTokenId);
    error UnknownToken(address token);
    error ZeroDsmId();
    error ZeroAddress();
    error ZeroAmount();
    error AlreadyMinted(bytes32 dsmTransferId);
    error NotEnoughSignatures(uint256 given, uint256 threshold);
    error SignersNotSorted(address signer, address previous);
    error NotASigner(address signer);
    error SignerAlreadyAdded(address signer);
    error InvalidThreshold(uint256 threshold, uint256 signerCount);
    error MalformedDsmRecipient(bytes dsmRecipient);

    constructor(address admin, address[] memory signers_, uint256 threshold_) EIP712("DsmBridge", "1") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _grantRole(DEPLOYER_ROLE, admin);
        for (uint256 i = 0; i < signers_.length; i++) {
            _addSigner(signers_[i]);
        }
        _setThreshold(threshold_);
    }

    // ---- wrapped tokens -------------------------------------------------------------------------------

    /// @notice Deploys the wrapped token of a DSM token, at an address fixed by this bridge and the token id.
    function deployToken(bytes32 dsmTokenId, string calldata name, string calldata symbol, uint8 decimals)
        external
        onlyRole(DEPLOYER_ROLE)
        returns (address token)
    {
        if (dsmTokenId == bytes32(0)) revert ZeroDsmId();
        if (wrappedToken[dsmTokenId] != address(0)) revert TokenAlreadyDeployed(dsmTokenId);
        token = address(new WrappedDsmToken{salt: dsmTokenId}(dsmTokenId, name, symbol, decimals));
        wrappedToken[dsmTokenId] = token;
        dsmTokenOf[token] = dsmTokenId;
        emit TokenDeployed(dsmTokenId, token, name, symbol, decimals);
    }

    // ---- DSM → EVM ------------------------------------------------------------------------------------

    /// @notice The EIP-712 digest the signers sign for a mint.
    function mintDigest(bytes32 dsmTransferId, bytes32 dsmTokenId, address recipient, uint256 amount)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(MINT_TYPEHASH, dsmTransferId, dsmTokenId, recipient, amount)));
    }

    /// @notice Mints `amount` wrapped `dsmTokenId` to `recipient` for the DSM transfer `dsmTransferId`.
    /// Anyone may submit it; what authorises it is the signatures, ordered by increasing signer address.
    function mint(
        bytes32 dsmTransferId,
        bytes32 dsmTokenId,
        address recipient,
        uint256 amount,
        bytes[] calldata signatures
    ) external whenNotPaused {
        if (dsmTransferId == bytes32(0)) revert ZeroDsmId();
        if (recipient == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        address token = wrappedToken[dsmTokenId];
        if (token == address(0)) revert UnknownDsmToken(dsmTokenId);
        if (minted[dsmTransferId]) revert AlreadyMinted(dsmTransferId);
        if (signatures.length < threshold) revert NotEnoughSignatures(signatures.length, threshold);

        bytes32 digest = mintDigest(dsmTransferId, dsmTokenId, recipient, amount);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (signer <= previous) revert SignersNotSorted(signer, previous);
            if (!_signers.contains(signer)) revert NotASigner(signer);
            previous = signer;
        }

        minted[dsmTransferId] = true;
        emit Minted(dsmTransferId, token, recipient, amount);
        WrappedDsmToken(token).mint(recipient, amount);
    }

    // ---- EVM → DSM ------------------------------------------------------------------------------------

    /// @notice Burns `amount` of the caller's wrapped `token`; the bridge releases it on DSM to `dsmRecipient`
    /// (a 36-byte DSM id) once the `BurnToDsm` event is deep enough.
    function burnToDsm(address token, uint256 amount, bytes calldata dsmRecipient) external whenNotPaused {
        if (dsmTokenOf[token] == bytes32(0)) revert UnknownToken(token);
        if (amount == 0) revert ZeroAmount();
        if (!isDsmId(dsmRecipient)) revert MalformedDsmRecipient(dsmRecipient);
        uint256 nonce = burnNonce++;
        WrappedDsmToken(token).burn(msg.sender, amount);
        emit BurnToDsm(token, msg.sender, amount, dsmRecipient, nonce);
    }

    /// @notice Whether `id` has the form of a DSM id: 36 bytes, `0x01711e20` then a non-zero digest.
    function isDsmId(bytes calldata id) public pure returns (bool) {
        return id.length == DSM_ID_LENGTH && bytes4(id[0:4]) == DSM_ID_PREFIX && bytes32(id[4:36]) != bytes32(0);
    }

    // ---- signers --------------------------------------------------------------------------------------

    function signers() external view returns (address[] memory) {
        return _signers.values();
    }

    function isSigner(address account) external view returns (bool) {
        return _signers.contains(account);
    }

    function addSigner(address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addSigner(signer);
    }

    /// @notice Removes a signer; fails if fewer signers than the threshold would remain.
    function removeSigner(address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_signers.remove(signer)) revert NotASigner(signer);
        if (threshold > _signers.length()) revert InvalidThreshold(threshold, _signers.length());
        emit SignerRemoved(signer);
    }

    function setThreshold(uint256 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setThreshold(threshold_);
    }

    // ---- pause ----------------------------------------------------------------------------------------

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    function _addSigner(address signer) private {
        if (signer == address(0)) revert ZeroAddress();
        if (!_signers.add(signer)) revert SignerAlreadyAdded(signer);
        emit SignerAdded(signer);
    }

    function _setThreshold(uint256 threshold_) private {
        if (threshold_ == 0 || threshold_ > _signers.length()) revert InvalidThreshold(threshold_, _signers.length());
        emit ThresholdChanged(threshold, threshold_);
        threshold = threshold_;
    }
}
