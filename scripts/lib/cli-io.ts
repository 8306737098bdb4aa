/** Where a command writes its lines: stdout and stderr in a process, arrays in a test. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** The process's own stdout and stderr. */
export const consoleIo: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};
