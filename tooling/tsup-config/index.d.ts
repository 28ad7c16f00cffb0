import type { Options } from 'tsup';

export declare function feedBuild(options?: { entry?: string[] | Record<string, string> }): Options | Options[] | ((overrideOptions: Options) => Options | Options[]);
