// Web3 Secret Storage v3 keystores through ethers, an implementation independent of infrafi's:
// proves that a keystore `infrafi wallet new` writes opens in other wallets, and that one they
// write opens in infrafi.
//
// usage: node keystore.mjs open <file> <password>            prints the address
//        node keystore.mjs write <file> <password> <key>     writes a keystore, prints the address
import { readFileSync, writeFileSync } from "node:fs";
import { Wallet } from "ethers";

const [command, file, password, privateKey] = process.argv.slice(2);
if (command === "open" && file && password) {
  const wallet = await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), password);
  console.log(wallet.address);
} else if (command === "write" && file && password && privateKey) {
  const wallet = new Wallet(privateKey);
  writeFileSync(file, await wallet.encrypt(password), { mode: 0o600 });
  console.log(wallet.address);
} else {
  console.error("usage: node keystore.mjs open <file> <password> | write <file> <password> <key>");
  process.exit(2);
}
