/**
 * Runner container entry: one repository of one job, chosen by JOB_ID and
 * AWS_BATCH_JOB_ARRAY_INDEX, exactly as an AWS Batch array child runs it.
 * Exit 0: the repository ended (even FAILED); non-zero: the runner broke, retry the attempt.
 */
import { ConfigError, loadConfig, secretValues } from "../core/config/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { forgetSecrets, resolveSecrets } from "../core/secrets/index.ts";
import { crashPointsFrom } from "./crash-points.ts";
import { runRepo } from "./run-repo.ts";
import { newRunnerDeps } from "./wiring.ts";

function abortOnSignals(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => controller.abort(new Error(`received ${sig}`)));
  }
  return controller.signal;
}

async function main(): Promise<number> {
  let config;
  try {
    // In AWS the job definition may name secrets by ARN (*_SECRET_ARN) instead of injecting values.
    config = loadConfig(await resolveSecrets(process.env));
    // The values live in `config` from here on; no child process can inherit them.
    forgetSecrets(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cody runner: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = newLogger({ level: config.logLevel, secrets: secretValues(config), base: { program: "runner" } });
  // A one-repository job is a plain AWS Batch job (arrays need two children), which gets no
  // AWS_BATCH_JOB_ARRAY_INDEX: the batch launcher sets ARRAY_INDEX_OFFSET, so index 0 then.
  const offsetText = process.env.ARRAY_INDEX_OFFSET;
  const arrayIndex = config.arrayIndex ?? (offsetText !== undefined ? 0 : undefined);
  if (!config.jobId || arrayIndex === undefined) {
    log.error("JOB_ID and AWS_BATCH_JOB_ARRAY_INDEX are required");
    return 2;
  }
  const offset = Number(offsetText ?? 0) || 0;
  const signal = abortOnSignals();
  let deps;
  try {
    deps = newRunnerDeps(config, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error({ err: err.message }, "bad configuration");
      return 2;
    }
    throw err;
  }
  try {
    const crashPoint = crashPointsFrom(process.env);
    return await runRepo(
      crashPoint ? { ...deps, crashPoint } : deps,
      { jobId: config.jobId, index: arrayIndex + offset, ...(config.batchAttempt !== undefined ? { attempt: config.batchAttempt } : {}) },
      signal,
    );
  } catch (err) {
    log.error({ err }, "runner failed");
    return 1;
  }
}

// `--worker`: a long-lived local worker serving one repository at a time (runner/worker.ts).
if (process.argv.includes("--worker")) process.exit(await (await import("./worker.ts")).serveWorker());
process.exitCode = await main();
