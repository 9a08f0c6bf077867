/** The usage of every command (`cody --help`). */
export declare const USAGE: string;
/** Every command `cody` takes, for "did you mean". */
export declare const COMMANDS: readonly string[];
/** The usage lines of one command; all of them for a command that has none. */
export declare function usageOf(command: string): string;
