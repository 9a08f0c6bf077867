import cp from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
const orig = cp.spawn; let n = 0; let blocked = 0; const byCmd = new Map<string, number>();
(cp as any).spawn = function (...args: any[]) { const s = performance.now(); const r = (orig as any).apply(this, args); const d = performance.now() - s; blocked += d; n++; const k = String(args[0]) + " " + String((args[1] ?? [])[0] ?? ""); byCmd.set(k, (byCmd.get(k) ?? 0) + 1); return r; };
syncBuiltinESMExports();
const { benchOrchestration } = await import("./orchestration.ts");
const r = await benchOrchestration({ repos: 100, concurrency: 4, rounds: 1 });
console.log(JSON.stringify(r), "spawns", n, "blocked ms", blocked.toFixed(0), "per", (blocked / n).toFixed(2), "rss", (process.memoryUsage().rss / 1e6).toFixed(0));
console.log([...byCmd].sort((a, b) => b[1] - a[1]).slice(0, 15));
