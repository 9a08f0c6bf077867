/**
 * The embedded stack (dynalite + s3rver, in memory) as its own process, so benchmarks measure
 * the orchestrating process alone, as DynamoDB and S3 are remote services in AWS. Prints the
 * stack's environment as one JSON line, then runs until stdin closes or SIGTERM.
 */
import { EmbeddedStack } from "../../environment/index.ts";

const stack = await EmbeddedStack.start({ inMemory: true, env: {} });
process.stdout.write(`${JSON.stringify(stack.env)}\n`);
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.stdin.on("end", () => void stop());
process.stdin.on("close", () => void stop());
process.stdin.resume();
process.once("SIGTERM", () => void stop());
