/**
 * `cody logs JOB_ID [REPO]`: the runner logs of a job's repositories (what local runners wrote to
 * `<CODY_DIR>/logs/<jobId>/<index>.log`), as human lines — time, level, message, fields — one
 * section a repository. Loaded by scripts/cody.ts on demand.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { humanLogLine } from "../core/runtime/index.ts";
import type { CliEnvironment } from "../environment/index.ts";

/** Prints the logs; returns the exit code (0, or 1 when no repository had a log here). Throws `usage(message)` for bad input. */
export async function logsCommand(
  args: string[],
  open: () => Promise<CliEnvironment>,
  usage: (message: string) => Error,
  noJob: (jobId: string) => string,
): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: "boolean" } }, allowPositionals: true, strict: true });
  const [jobId, repo, extra] = positionals;
  if (!jobId) throw usage("logs needs a job id");
  if (extra !== undefined) throw usage(`unexpected argument "${extra}"`);
  const world = await open();
  try {
    const job = await world.store.getJob(jobId);
    if (!job) throw usage(noJob(jobId));
    let rows = await world.store.listRepos(jobId);
    if (repo !== undefined) {
      rows = rows.filter((r) => r.repositoryName.toLowerCase() === repo.toLowerCase());
      if (rows.length === 0) throw usage(`${repo} is not in job ${jobId}`);
    }
    const dir = resolve(world.env.CODY_DIR ?? ".cody", "logs", jobId);
    let found = 0;
    for (const row of rows) {
      const file = join(dir, `${row.index}.log`);
      const shown = relative(process.cwd(), file);
      if (!existsSync(file)) {
        process.stdout.write(`── ${row.repositoryName} (${row.status}): no runner log at ${shown}\n`);
        continue;
      }
      found++;
      const text = readFileSync(file, "utf8");
      process.stdout.write(`── ${row.repositoryName} (${row.status}) · ${shown}\n`);
      for (const line of text.split("\n").filter(Boolean)) process.stdout.write(values.json ? `${line}\n` : `   ${humanLogLine(line)}`);
    }
    if (found === 0) {
      process.stdout.write(
        "No runner logs here: runners that ran inside the command (LOCAL_RUNNER=inprocess) logged to its own output, and on AWS they are in CloudWatch (OPERATIONS.md).\n",
      );
      return 1;
    }
    return 0;
  } finally {
    await world.close();
  }
}
