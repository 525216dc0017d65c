// Signs an infrafi transaction with viem's signTypedData (what MetaMask and every wallet
// library do) and submits it to a node; exits 0 once the node has applied it.
//
// usage: node sign-and-submit.mjs <node-url> <private-key> <recipient>
import { privateKeyToAccount } from "viem/accounts";

const [url, privateKey, recipient] = process.argv.slice(2);
if (!url || !privateKey || !recipient) {
  console.error("usage: node sign-and-submit.mjs <node-url> <private-key> <recipient>");
  process.exit(2);
}
const account = privateKeyToAccount(privateKey);
const get = async (path) => (await fetch(url + path)).json();

const { chain_id: chainId } = await get("/v1/status");
const { next_nonce: nonce } = await get(`/v1/accounts/${account.address}`);

// The action is plain JSON; amounts are strings of base units (10^-18), so no BigInt is needed.
const action = "transfer";
const payload = JSON.stringify({
  type: "transfer",
  asset: { stablecoin: "USDC" },
  to: recipient,
  amount: "1250500000000000000000",
});

const signature = await account.signTypedData({
  domain: { name: "infrafi", version: "1", chainId },
  types: {
    Transaction: [
      { name: "nonce", type: "uint64" },
      { name: "action", type: "string" },
      { name: "payload", type: "string" },
    ],
  },
  primaryType: "Transaction",
  message: { nonce: BigInt(nonce), action, payload },
});

const response = await fetch(url + "/v1/tx", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ chain_id: chainId, sender: account.address, nonce, action, payload, signature }),
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
