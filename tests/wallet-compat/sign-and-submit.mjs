// Signs an infrafi transaction with viem's signTypedData (what MetaMask and every wallet
// library do) as a wallet on Ethereum mainnet (chain 1), and submits it to a node; exits 0 once
// the node has applied it. The action's EIP-712 struct is written out here from the documented
// scheme (docs/node.md) and must equal what the node serves at POST /v1/typed-data, which is
// what the browser app signs: the CLI, this script and the app sign the same struct.
//
// usage: node sign-and-submit.mjs <node-url> <private-key> <recipient>
import { privateKeyToAccount } from "viem/accounts";
import { isDeepStrictEqual } from "node:util";

const [url, privateKey, recipient] = process.argv.slice(2);
if (!url || !privateKey || !recipient) {
  console.error("usage: node sign-and-submit.mjs <node-url> <private-key> <recipient>");
  process.exit(2);
}
const account = privateKeyToAccount(privateKey);
const get = async (path) => (await fetch(url + path)).json();
const post = async (path, body) =>
  fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const { chain_id: chainId } = await get("/v1/status");
const { next_nonce: nonce } = await get(`/v1/accounts/${account.address}`);
// The wallet is on Ethereum mainnet: the domain carries that chain, the message the infrafi one.
const walletChainId = 1;

// The action is plain JSON; amounts are strings of base units (10^-18), so no BigInt is needed.
const action = "transfer";
const actionJson = {
  type: "transfer",
  asset: { stablecoin: "USDC" },
  to: recipient,
  amount: "1250500000000000000000",
};
// The node's typed data for this action: its payload is the node's canonical JSON of the action
// (addresses in lower case), which is what gets signed and submitted.
const served = await (await post("/v1/typed-data", { sender: account.address, action: actionJson, signature_chain_id: walletChainId })).json();
const payload = served.transaction.payload;
if (JSON.stringify(JSON.parse(payload)).toLowerCase() !== JSON.stringify(actionJson).toLowerCase()) {
  console.error("the node's payload is another action", payload);
  process.exit(1);
}

// The documented struct, written out here, must be the one the node serves: the action's own
// struct (docs/node.md), so a wallet shows "Transfer: asset, to, amount".
const typed = {
  domain: { name: "infrafi", version: "3", chainId: walletChainId },
  types: {
    Transfer: [
      { name: "chain", type: "uint64" },
      { name: "nonce", type: "uint64" },
      { name: "asset", type: "string" },
      { name: "to", type: "address" },
      { name: "amount", type: "uint256" },
    ],
  },
  primaryType: "Transfer",
  message: {
    chain: BigInt(chainId),
    nonce: BigInt(nonce),
    asset: JSON.stringify(actionJson.asset),
    to: recipient,
    amount: BigInt(actionJson.amount),
  },
};

const m = served.typed_data.message;
const normalised = {
  domain: { ...served.typed_data.domain, chainId: Number(served.typed_data.domain.chainId) },
  types: { Transfer: served.typed_data.types.Transfer },
  primaryType: served.typed_data.primaryType,
  message: { chain: BigInt(m.chain), nonce: BigInt(m.nonce), asset: m.asset, to: m.to.toLowerCase(), amount: BigInt(m.amount) },
};
if (!isDeepStrictEqual(normalised, { ...typed, message: { ...typed.message, to: recipient.toLowerCase() } })) {
  console.error("the node's typed data differs", JSON.stringify(served), payload);
  process.exit(1);
}

const signature = await account.signTypedData(typed);
const response = await post("/v1/tx", {
  chain_id: chainId, signature_chain_id: walletChainId, sender: account.address, nonce, action, payload, signature,
});
const accepted = await response.json();
if (response.status !== 202) {
  console.error("refused", response.status, accepted);
  process.exit(1);
}
for (let i = 0; i < 200; i++) {
  const receipt = await get(`/v1/tx/${accepted.tx_hash}`);
  if (receipt.status === "applied") {
    console.log(JSON.stringify(receipt));
    process.exit(0);
  }
  if (receipt.status === "rejected") {
    console.error("rejected", receipt);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
console.error("not committed in time");
process.exit(1);
