// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title A DSM token on an EVM chain.
/// @notice Deployed by `DsmBridge`, one per DSM token; its name, symbol and decimals are those of the DSM token
/// definition. Only the bridge that deployed it mints (against threshold attestations of DSM deposits) and
/// burns (in `DsmBridge.burnToDsm`), so its total supply is what the bridge's DSM identity holds in escrow.
contract WrappedDsmToken is ERC20 {
    /// @notice The bridge: the only account allowed to mint and burn.
    address public immutable bridge;
    /// @notice The DSM token this wraps: the 32-byte digest of its DSM id (the id minus its fixed 0x01711e20 prefix).
    bytes32 public immutable dsmTokenId;
    uint8 private immutable _decimals;

    error OnlyBridge(address caller);

    modifier onlyBridge() {
        if (msg.sender != bridge) revert OnlyBridge(msg.sender);
        _;
    }

    constructor(bytes32 dsmTokenId_, string memory name_, string memory symbol_, uint8 decimals_)
        ERC20(name_, symbol_)
    {
        bridge = msg.sender;
        dsmTokenId = dsmTokenId_;
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }
}
