import { dispatchNext } from "./dispatch.ts";
import { parseJobMessage, type TranscodeJobMessage } from "../../../contract/transcode.ts";

export const DEAD_LETTER_QUEUE = "transcode-jobs-dlq";

/**
 * Queue consumer. A message says "this video's upload is complete"; the job itself waits in D1,
 * so a message only wakes the dispatcher (which picks by priority, then age) and is acked.
 * Redelivered messages are harmless: a running or finished job is never claimed again.
 * A message that keeps failing lands in the dead-letter queue.
 */
export async function consumeJobMessages(batch: MessageBatch<TranscodeJobMessage>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) {
    // The job is still QUEUED in D1, so the minute cron dispatches it; the message only tells us
    // that waking the dispatcher kept failing.
    for (const message of batch.messages) {
      console.error(`job message for ${message.body?.videoId} dead-lettered after ${message.attempts} attempts`);
      message.ack();
    }
    return;
  }
  for (const message of batch.messages) {
    // Validated on arrival like every message that crosses a boundary: a malformed one is dropped
    // (acked, logged), since retrying it can never make it right.
    const checked = parseJobMessage(message.body);
    if (!checked.ok) {
      console.error(`dropped a malformed job message: ${checked.error}`);
      message.ack();
      continue;
    }
    try {
      await dispatchNext(env);
      message.ack();
    } catch (error) {
      console.error(`dispatch for ${message.body?.videoId} failed:`, String(error));
      message.retry({ delaySeconds: 5 * message.attempts });
    }
  }
}
