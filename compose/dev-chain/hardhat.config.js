// Hardhat's config for the dev chain of compose/ (`hardhat node`: chain 31337, the 20 funded accounts of
// hardhat's well-known test mnemonic). It compiles nothing; whatever it writes goes to /tmp (a tmpfs in compose).
export default {
  paths: {
    sources: '/tmp/hardhat/sources',
    artifacts: '/tmp/hardhat/artifacts',
    cache: '/tmp/hardhat/cache',
  },
};
