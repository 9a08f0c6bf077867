import { describe, expect, it } from "vitest";
import { newLogger, redact } from "./log.ts";

const SECRET = "ghs_FAKEinstallationTOKEN0123456789abcd";
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEfakeKEYfakeKEYfakeKEYfakeKEYfakeKEYfakeKEYfakeKEY\nMIIEmorefakeKEYbytes0123456789\n-----END RSA PRIVATE KEY-----";
// A known secret without any recognisable shape: only the known-value rules can catch it.
const OPAQUE = "hunter2-correct-horse-battery";
// A secret that every encoding changes.
const SPECIAL = 's3/cr3t+v q"u=e?x&y';
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("redact: encoded forms of a known secret", () => {
  it.for([
    { name: "the value", text: `x ${OPAQUE} y` },
    { name: "base64 (echo | base64)", text: b64(`${OPAQUE}\n`) },
    { name: "base64 after 1 byte", text: b64(`A${OPAQUE}B`) },
    { name: "base64 after 2 bytes", text: b64(`AB${OPAQUE}`) },
    { name: "base64 of an env dump", text: b64(`HOME=/root\nSLACK_BOT_TOKEN=${OPAQUE}\nPATH=/bin\n`) },
    { name: "base64 wrapped at 76 columns", text: b64(`${"x".repeat(50)}${OPAQUE}${"y".repeat(50)}`).replace(/(.{76})/g, "$1\n") },
    { name: "base64 in a JSON log line (wrapped, \\n escaped)", text: JSON.stringify(b64(`${"x".repeat(60)}${OPAQUE}`).replace(/(.{76})/g, "$1\n")) },
    { name: "base64url", text: Buffer.from(`?${OPAQUE}?`).toString("base64url") },
    { name: "hex", text: Buffer.from(OPAQUE).toString("hex") },
    { name: "HEX", text: Buffer.from(OPAQUE).toString("hex").toUpperCase() },
    { name: "URL-encoded", text: `?password=${encodeURIComponent(SPECIAL)}&x=1`, probe: "%2Fcr" },
    { name: "URL-encoded, lower-case escapes", text: encodeURIComponent(SPECIAL).toLowerCase(), probe: "%2fcr" },
    { name: "JSON-escaped", text: JSON.stringify(SPECIAL), probe: 'q\\"u' },
    { name: "reversed (rev)", text: `out: ${[...OPAQUE].reverse().join("")}`, probe: "yrettab-esroh" },
    { name: "ROT13", text: OPAQUE.replace(/[a-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - 97 + 13) % 26) + 97)), probe: "uhagre2" },
  ])("removes $name", ({ text, probe }) => {
    const out = redact(text, [OPAQUE, SPECIAL]);
    if (probe) expect(out).not.toContain(probe);
    expect(out).toContain("[REDACTED]");
    // What is left cannot be decoded back to the value.
    for (const decode of [(s: string) => s, (s: string) => Buffer.from(s.replace(/\\n|\n/g, ""), "base64").toString("latin1"), (s: string) => Buffer.from(s, "base64url").toString("latin1"), (s: string) => Buffer.from(s, "hex").toString("latin1")]) {
      expect(decode(out)).not.toContain(OPAQUE.slice(2, -2));
    }
    expect(out).not.toContain(OPAQUE);
  });

  it("removes a known multi-line key encoded with base64 -w 76", () => {
    const out = redact(`key: ${b64(`${PEM}\n`).replace(/(.{76})/g, "$1\n")}`, [PEM]);
    expect(out).toBe("key: [REDACTED]");
  });

  it("leaves ordinary base64 and text alone", () => {
    const text = `commit ${"a".repeat(40)} ${b64("hello world, nothing secret here")}`;
    expect(redact(text, [OPAQUE])).toBe(text);
  });
});

describe("redact: credential shapes", () => {
  it.for([
    { name: "an AWS access key id", text: "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", gone: ["AKIAIOSFODNN7EXAMPLE"] },
    {
      name: "an AWS secret next to its key id",
      text: "aws_access_key_id = ASIAIOSFODNN7EXAMPLE\nregion = x\nkey = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      gone: ["ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    },
    {
      name: "the container credentials JSON",
      text: `{"RoleArn":"arn:aws:iam::1:role/r","AccessKeyId":"ASIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","Token":"${"IQoJb3JpZ2luX2Vj".repeat(10)}","Expiration":"2030-01-01T00:00:00Z"}`,
      gone: ["ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjIQoJb3JpZ2lu"],
    },
    { name: "a named AWS secret far from its id", text: `AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, gone: ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"] },
    { name: "an AWS session token", text: `AWS_SESSION_TOKEN=${"FwoGZXIvYXdzE".repeat(3)}`, gone: ["FwoGZXIvYXdzEFwoGZXIvYXdzE"] },
    { name: "a Slack client token (xoxc-)", text: "cookie xoxc-1234567890-abcdefghij-klmnop", gone: ["xoxc-1234567890"] },
    { name: "a Slack refresh token (xoxe-)", text: "xoxe-1-My0xLTEyMzQ1Njc4OTAxMi0", gone: ["xoxe-1-My0x"] },
    { name: "a rotated Slack token (xoxe.xoxp-)", text: "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4", gone: ["xoxp-1-Mi0y"] },
    { name: "a Slack webhook URL", text: "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXX", gone: ["XXXXXXXXXXXXXXXXXXXX"] },
    { name: "user:password in a URL", text: "fatal: unable to access 'https://x-access-token:s3cr3tvalue@github.com/acme/a.git/'", gone: ["s3cr3tvalue"] },
    { name: "a token as the user of a URL", text: "remote: https://abcdefghijklmnop1234@ghe.example.com/a.git", gone: ["abcdefghijklmnop1234"] },
    { name: "a private key", text: `key: ${PEM}`, gone: ["MIIEfake"] },
  ])("removes $name", ({ text, gone }) => {
    const out = redact(text);
    for (const g of gone) expect(out).not.toContain(g);
    expect(out).toContain("[REDACTED]");
  });

  it("keeps URLs without credentials and ssh users", () => {
    const text = "see https://github.com/acme/a/pull/1 and ssh://git@github.com/acme/a.git";
    expect(redact(text)).toBe(text);
  });
});

describe("the logger", () => {
  it("writes no known secret in any encoding, nor token shapes", () => {
    const lines: string[] = [];
    const log = newLogger({ level: "info", secrets: [SECRET, OPAQUE] }, { write: (s: string) => void lines.push(s) });
    log.info({ out: b64(`TOKEN=${SECRET}\n`), hex: Buffer.from(OPAQUE).toString("hex"), url: "https://u:pw12345@h/x" }, "script output");
    log.warn({ aws: "AKIAIOSFODNN7EXAMPLE" }, "xoxc-1234567890-abcdefghij");
    const all = lines.join("");
    expect(lines).toHaveLength(2);
    for (const bad of [SECRET, b64(`TOKEN=${SECRET}`).slice(8, 40), Buffer.from(OPAQUE).toString("hex"), "pw12345", "AKIAIOSFODNN7EXAMPLE", "xoxc-1234567890"]) {
      expect(all).not.toContain(bad);
    }
    expect(lines.map((l) => JSON.parse(l) as { msg: string }).map((l) => l.msg)).toEqual(["script output", "[REDACTED]"]);
  });
});
