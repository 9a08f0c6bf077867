import { benchOrchestration } from "./orchestration.ts";
const r = await benchOrchestration({ repos: Number(process.argv[2] ?? 100), concurrency: Number(process.argv[3] ?? 4), rounds: Number(process.argv[4] ?? 1) });
console.log(JSON.stringify(r));
