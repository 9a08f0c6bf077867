import { benchClaudeCache } from "./claude-cache.ts";
console.log(JSON.stringify(await benchClaudeCache()));
