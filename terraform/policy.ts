/**
 * IAM policy documents as plain JSON strings (cdktf resolves the tokens inside), so the
 * synthesized stack can be checked statement by statement.
 */
import { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy/index.js";
import type { Construct } from "constructs";

export type Statement = {
  Sid?: string;
  Effect?: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
};

/** A policy document (Effect defaults to Allow). */
export function policyDocument(statements: Statement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements.map((s) => ({ Effect: "Allow", ...s })) });
}

/** A role that `service` (e.g. `lambda.amazonaws.com`) may assume, with one inline policy. */
export function serviceRole(scope: Construct, id: string, opts: { name: string; service: string; statements: Statement[]; sourceAccount?: string }): IamRole {
  const role = new IamRole(scope, id, {
    name: opts.name,
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: opts.service },
          Action: "sts:AssumeRole",
          ...(opts.sourceAccount ? { Condition: { StringEquals: { "aws:SourceAccount": opts.sourceAccount } } } : {}),
        },
      ],
    }),
  });
  new IamRolePolicy(scope, `${id}-policy`, { name: `${opts.name}-policy`, role: role.id, policy: policyDocument(opts.statements) });
  return role;
}
