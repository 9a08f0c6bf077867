/** The usage of every command (`cody --help`). */
export declare const USAGE: string;
/** Every command `cody` takes, for "did you mean". */
export declare const COMMANDS: readonly string[];
