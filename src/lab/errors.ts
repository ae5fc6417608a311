// A lab problem the user can fix: its message is one line saying what to do.

/** Raised for bad lab input or state; the CLI prints the message alone. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}
