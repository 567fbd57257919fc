/** What system modules need from the run that imports them. */
export interface ModuleContext {
  /** Directory relative file paths resolve against (`file.workdir()`). */
  readonly workdir: string;
  /** Root of the KCL module (directory holding `kcl.mod`), `file.modpath()`. */
  readonly modRoot: string;
  /** Path of the file being evaluated, `file.current()`. */
  readonly currentFile: string;
  /** Replaces the program's YAML output with a document stream (`manifests.yaml_stream`). */
  setStreamOutput(text: string): void;
}
