// Text to stdout, one piece at a time. A pipe is asynchronous in Node on Linux: what the reader has
// not taken yet stays queued in our memory, so a long output written in one loop is all of it at
// once. Waiting for each piece keeps one piece in flight.
/** Waits for stdout to take the text, so a pipe closing early (head) ends us quietly. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
