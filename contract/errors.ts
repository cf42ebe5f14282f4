/**
 * A failure as every side of the API reports it: an HTTP status, a machine code and a sentence for
 * people — the `{error, message}` body of `ErrorResponse`. The transcoder throws it, the web app
 * reads answers into it. (Plain fields, no parameter properties: Node runs this file with types
 * stripped.)
 */
export class StatusError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
