/**
 * AWS Backup for both tables (issue 23): a vault, a daily plan (05:00 UTC; kept BACKUP_DAYS days,
 * 7 in dev) and a selection of the two tables, through a role with AWS's managed backup and
 * restore policies. Point-in-time recovery (35 days, terraform/storage.ts) stays the first
 * resort; these snapshots outlive a table deleted by mistake. On demand:
 * `aws backup start-backup-job` (OPERATIONS.md, docs/operations-runbooks.md).
 */
import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan/index.js";
import { BackupSelection } from "@cdktf/provider-aws/lib/backup-selection/index.js";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault/index.js";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js";
import { Construct } from "constructs";
import { resourceName, type StackSettings } from "./settings.ts";
import type { Storage } from "./storage.ts";

/** Days a daily backup is kept in prod. */
export const BACKUP_DAYS = 35;

export class Backup extends Construct {
  readonly vault: BackupVault;
  readonly plan: BackupPlan;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, p: { settings: StackSettings; storage: Storage; partition: string }) {
    super(scope, id);
    const s = p.settings;
    this.vault = new BackupVault(this, "vault", { name: resourceName(s, "backups"), forceDestroy: s.env === "dev" });
    this.plan = new BackupPlan(this, "plan", {
      name: resourceName(s, "tables"),
      rule: [
        {
          ruleName: "daily",
          targetVaultName: this.vault.name,
          schedule: "cron(0 5 * * ? *)",
          startWindow: 60,
          completionWindow: 360,
          lifecycle: { deleteAfter: s.env === "prod" ? BACKUP_DAYS : 7 },
        },
      ],
    });
    this.role = new IamRole(this, "role", {
      name: resourceName(s, "backup"),
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    for (const [n, policy] of [["backup", "AWSBackupServiceRolePolicyForBackup"], ["restore", "AWSBackupServiceRolePolicyForRestores"]] as const) {
      new IamRolePolicyAttachment(this, `role-${n}`, { role: this.role.name, policyArn: `arn:${p.partition}:iam::aws:policy/service-role/${policy}` });
    }
    new BackupSelection(this, "tables", {
      name: resourceName(s, "tables"),
      planId: this.plan.id,
      iamRoleArn: this.role.arn,
      resources: [p.storage.jobsTable.arn, p.storage.reposTable.arn],
    });
  }
}
