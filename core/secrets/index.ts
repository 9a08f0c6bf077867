/**
 * Secrets: reading them from Secrets Manager once, and the forms a secret may take in text (for redaction).
 * The folder's public face: code outside core/secrets/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./secret-forms.ts";
export * from "./secrets.ts";
