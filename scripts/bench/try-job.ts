import { benchJob1000 } from "./job1000.ts";
console.log(JSON.stringify(await benchJob1000({ repos: Number(process.argv[2] ?? 100), concurrency: Number(process.argv[3] ?? 8), rateLimitFraction: 0.05, retryAfterSeconds: 1 })));
