#!/usr/bin/env node
// The `cody` command: loads the TypeScript CLI through tsx and runs it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const { register } = await import("tsx/esm/api");
register();
const { main } = await import("./cody.ts");
const code = await main(process.argv.slice(2));
process.exit(code);
