/**
 * Writes `schema/change-spec.schema.json` from the zod schema in core/spec/change-spec.ts, for editors
 * (`# yaml-language-server: $schema=…`). Run `node --import tsx scripts/gen-change-spec-schema.ts`
 * after changing the schema; core/spec/change-spec.test.ts fails while the file is out of date.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { changeSpecJsonSchema } from "../core/spec/index.ts";

/** The file's exact content: the schema as indented JSON with a final newline. */
export function changeSpecSchemaFile(): string {
  return `${JSON.stringify(changeSpecJsonSchema(), null, 2)}\n`;
}

/** Where the schema file lives, beside the README. */
export const CHANGE_SPEC_SCHEMA_PATH = fileURLToPath(new URL("../schema/change-spec.schema.json", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CHANGE_SPEC_SCHEMA_PATH, changeSpecSchemaFile());
  process.stdout.write(`wrote ${CHANGE_SPEC_SCHEMA_PATH}\n`);
}
