/** Page-side advice for a failed run: the passes word what they need for the CLI (`--data …`). */

/** Where the page takes what a failed pass asked for, or '' when there is nothing to add. */
export function pageHint(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return /needs training data/.test(message) ? ' On this page, training data is the labeled data picked under Evaluate → Data (the MNIST demo, or your files with labels).' : '';
}
