// Variants of the committer's transactions for bench/chain-store.ts, to isolate what the chain costs in the
// store: "plainpad" adds two 64-character attributes to unchained events (the chain's bytes without the
// chain), "chainbin" stores the hashes as 32-byte binary, "chainnohead" leaves the head out of the aggregate's
// update. Only for measuring: such transactions break the chain (I7) on purpose.
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";

const HEX = "ab".repeat(32);
/** Alters the committer's transactions on their way to the store, to isolate what the chain costs there. */
export function variantOf(client: { send: (command: never) => Promise<unknown> }, arm: string): void {
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  (client as { send: unknown }).send = (command: unknown) => {
    if (command instanceof TransactWriteCommand) alter(command.input, arm);
    return send(command);
  };
}
function alter(input: TransactWriteCommandInput, arm: string): void {
  for (const item of input.TransactItems ?? []) {
    const put = item.Put?.Item as Record<string, unknown> | undefined;
    if (put !== undefined) {
      if (arm === "plainpad") Object.assign(put, { previousHash: HEX, hash: HEX });
      if (arm === "chainbin") {
        put.hash = Buffer.from(put.hash as string, "hex");
        put.previousHash = Buffer.from(put.previousHash as string, "hex");
      }
    }
    const update = item.Update;
    if (update !== undefined) {
      const values = update.ExpressionAttributeValues as Record<string, unknown>;
      if (arm === "chainnohead") {
        update.UpdateExpression = update.UpdateExpression!.replace(
          ", #headVersion = :headVersion, #headHash = :headHash",
          "",
        );
        delete update.ExpressionAttributeNames!["#headVersion"];
        delete update.ExpressionAttributeNames!["#headHash"];
        delete values[":headVersion"];
        delete values[":headHash"];
      }
      if (arm === "chainbin") values[":headHash"] = Buffer.from(values[":headHash"] as string, "hex");
    }
  }
}
