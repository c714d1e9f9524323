/** Debian's path for its `chromium` package. */
export declare const DEBIAN_CHROMIUM: string;
/**
 * `CHROMIUM_PATH` when set (and executable), else `/usr/bin/chromium`, else `chromium` on
 * PATH; undefined when none is found.
 */
export declare function resolveChromium(env?: NodeJS.ProcessEnv): string | undefined;
