// The dev chain of the contract tests (`hardhat node`): chain id 31337, 20 funded accounts. Hardhat
// compiles nothing here (scripts/generate.mjs does, with the solc npm package); its own files go to .cache/.
export default {
  paths: {
    sources: '.cache/hardhat/sources',
    artifacts: '.cache/hardhat/artifacts',
    cache: '.cache/hardhat/cache',
  },
};
