/** What an agent role exports: named async methods taking structured-clone parameters. */

/** Methods an agent answers, by name. */
export type Methods = Readonly<Record<string, (params: unknown) => Promise<unknown>>>
