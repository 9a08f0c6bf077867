/**
 * Example repositories for `make run`: small but realistic Node services and libraries, made as
 * bare git remotes under `<dir>/remotes/<owner>/<name>.git` so `GIT_BASE_URL=file://<dir>/remotes`
 * clones them like GitHub would. Most call a deprecated helper `fetchJson`; one does not.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const EXAMPLE_OWNER = "example";

/** The default change of `make run`: rename the deprecated `fetchJson` helper to `getJson` everywhere. */
export const DEFAULT_SCRIPT =
  "git grep -lz -w fetchJson -- . | xargs -0 -r perl -pi -e 's/\\bfetchJson\\b/getJson/g'";

type Files = Record<string, string>;

const http = `// Tiny HTTP helpers shared by the service.
export async function fetchJson(url, init = {}) {
  const res = await fetch(url, { ...init, headers: { accept: "application/json", ...init.headers } });
  if (!res.ok) throw new Error(\`GET \${url}: \${res.status}\`);
  return res.json();
}
`;

function pkg(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name, version: "1.4.0", private: true, type: "module", scripts: { test: "node --test" }, ...extra }, null, 2) + "\n";
}

/** The example repositories: name → files. */
export const EXAMPLES: Record<string, Files> = {
  "billing-service": {
    "package.json": pkg("billing-service"),
    "README.md": "# billing-service\n\nIssues invoices and talks to the payments API.\n",
    "src/http.js": http,
    "src/invoices.js": `import { fetchJson } from "./http.js";

export async function listInvoices(customerId) {
  const data = await fetchJson(\`https://payments.internal/customers/\${customerId}/invoices\`);
  return data.items.map((i) => ({ id: i.id, total: i.amount_cents / 100, paid: i.status === "paid" }));
}

export async function invoiceTotal(customerId) {
  const invoices = await listInvoices(customerId);
  return invoices.reduce((sum, i) => sum + i.total, 0);
}
`,
    "src/customers.js": `import { fetchJson } from "./http.js";

export async function getCustomer(id) {
  return fetchJson(\`https://crm.internal/customers/\${id}\`);
}
`,
    "test/invoices.test.js": `import { test } from "node:test";
import assert from "node:assert/strict";

test("totals are in currency units", () => {
  assert.equal(1234 / 100, 12.34);
});
`,
  },
  "web-shop": {
    "package.json": pkg("web-shop"),
    "README.md": "# web-shop\n\nThe storefront's server-side rendering.\n",
    "src/lib/http.js": http,
    "src/cart.js": `import { fetchJson } from "./lib/http.js";

export async function loadCart(sessionId) {
  const cart = await fetchJson(\`/api/carts/\${sessionId}\`);
  return { ...cart, count: cart.items.length };
}
`,
    "src/catalog.js": `import { fetchJson } from "./lib/http.js";

export async function search(term) {
  return fetchJson(\`/api/catalog?q=\${encodeURIComponent(term)}\`);
}

export async function product(id) {
  return fetchJson(\`/api/catalog/\${id}\`);
}
`,
  },
  "admin-ui": {
    "package.json": pkg("admin-ui"),
    "README.md": "# admin-ui\n\nBack-office screens.\n",
    "src/api.js": `import { fetchJson } from "@example/http";

export const users = () => fetchJson("/admin/users");
export const audit = (since) => fetchJson(\`/admin/audit?since=\${since}\`);
`,
    "src/main.js": `import { users } from "./api.js";

const list = await users();
console.log(\`\${list.length} users\`);
`,
  },
  "payments-lib": {
    "package.json": pkg("@example/payments"),
    "README.md": "# payments-lib\n\nMoney helpers used across services.\n",
    "index.js": `export { formatMoney } from "./src/money.js";
export { refund } from "./src/refund.js";
`,
    "src/money.js": `export function formatMoney(cents, currency = "EUR") {
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(cents / 100);
}
`,
    "src/refund.js": `import { fetchJson } from "@example/http";

export async function refund(paymentId, cents) {
  return fetchJson(\`/payments/\${paymentId}/refunds\`, { method: "POST", body: JSON.stringify({ cents }) });
}
`,
  },
  "docs-site": {
    "package.json": pkg("docs-site"),
    "README.md": "# docs-site\n\nStatic documentation; no runtime code.\n",
    "docs/index.md": "# Welcome\n\nStart with the billing guide.\n",
    "docs/billing.md": "# Billing\n\nInvoices are issued monthly.\n",
  },
};

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Example Dev",
      GIT_AUTHOR_EMAIL: "dev@example.com",
      GIT_COMMITTER_NAME: "Example Dev",
      GIT_COMMITTER_EMAIL: "dev@example.com",
    },
  });
}

/**
 * Makes a bare remote `<root>/<owner>/<name>.git` holding `files` in one commit on `branch`.
 * Replaces an existing one. Returns the bare repository's path.
 */
export function makeBareRepo(root: string, fullName: string, files: Files, branch = "main"): string {
  const bare = resolve(root, `${fullName}.git`);
  rmSync(bare, { recursive: true, force: true });
  mkdirSync(dirname(bare), { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "cody-example-"));
  try {
    git(work, ["init", "-q", "-b", branch]);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git(work, ["add", "-A"]);
    git(work, ["commit", "-q", "-m", "Initial commit"]);
    git(work, ["clone", "-q", "--bare", work, bare]);
    git(bare, ["config", "uploadpack.allowFilter", "true"]);
    git(bare, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bare;
}

/** Makes an empty bare remote (no commits). */
export function makeEmptyBareRepo(root: string, fullName: string): string {
  const bare = resolve(root, `${fullName}.git`);
  rmSync(bare, { recursive: true, force: true });
  mkdirSync(bare, { recursive: true });
  git(bare, ["init", "-q", "--bare", "-b", "main"]);
  return bare;
}

/**
 * Makes the example remotes under `<dir>/remotes` (when missing, or always with `fresh`) and
 * returns their `owner/name` list and the `GIT_BASE_URL` that serves them.
 */
export function makeExampleRepos(dir: string, opts: { fresh?: boolean } = {}): { repositories: string[]; gitBaseUrl: string } {
  const root = resolve(dir, "remotes");
  const repositories: string[] = [];
  for (const [name, files] of Object.entries(EXAMPLES)) {
    const fullName = `${EXAMPLE_OWNER}/${name}`;
    if (opts.fresh || !existsSync(join(root, `${fullName}.git`))) makeBareRepo(root, fullName, files);
    repositories.push(fullName);
  }
  return { repositories, gitBaseUrl: `file://${root}` };
}
