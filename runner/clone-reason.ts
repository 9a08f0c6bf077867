// Why a clone failed, in words for people (runner/workspace.ts calls it).

/** A short reason for a failed clone naming the URL tried, credentials dropped; `token`: whether git had one. */
export function cloneReason(stderr: string, repository: string, baseBranch?: string, tried: { url?: string; token?: boolean } = {}): string {
  const s = stderr.toLowerCase();
  const at = tried.url ? ` at ${tried.url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1").replace(/[?#].*$/, "")}` : "";
  const access = tried.url !== undefined && !/^https?:\/\//i.test(tried.url) ? "" : tried.token === false ? " (no GITHUB_TOKEN set: a private repository needs one)" : " (or the token cannot read it)";
  if (baseBranch && (s.includes("remote branch") || s.includes("not found in upstream")))
    return `base branch ${baseBranch} does not exist in ${repository}`;
  if (s.includes("not found") || s.includes("does not exist") || s.includes("does not appear to be a git repository"))
    return `repository ${repository} not found${at}${access}`;
  if (s.includes("authentication failed") || s.includes("could not read username") || s.includes("403"))
    return `no read access to ${repository}${at} (check GITHUB_TOKEN or the GitHub App installation)`;
  if (s.includes("timed out") || s.includes("timeout")) return `cloning ${repository}${at} timed out`;
  return `clone of ${repository}${at} failed: ${firstLine(stderr)}`;
}

/** The first meaningful line of git's stderr, cut, URLs masked (they could hold credentials). */
export function firstLine(text: string): string {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith("Cloning into")) ?? "unknown error";
  return (line.length > 200 ? `${line.slice(0, 197)}...` : line).replace(/https?:\/\/[^\s]+/g, "<url>");
}
