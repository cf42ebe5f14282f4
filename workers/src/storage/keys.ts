/**
 * R2 key layout. Sources and outputs live apart so that playback can never reach a source:
 *   sources/<videoId>                 the uploaded file
 *   videos/<videoId>/r<run>/...       HLS playlists, segments, poster of one run of the transcoder
 *   videos/<videoId>/...              the same, from runs made before outputs had a run prefix
 * Every run writes under its own prefix, so a retried run can never serve or mix with the files of
 * a cancelled or failed one; the public URLs stay /videos/<id>/<file> (playback maps them).
 */
export const sourceKey = (videoId: string) => `sources/${videoId}`;
/** Everything a video has in R2 besides its source (every run's outputs). */
export const outputPrefix = (videoId: string) => `videos/${videoId}/`;
/** The outputs of one run. */
export const runPrefix = (videoId: string, run: number) => `${outputPrefix(videoId)}r${run}/`;
export const outputKey = (videoId: string, run: number, path: string) => `${runPrefix(videoId, run)}${path}`;
/** Where a run made before the run prefix existed stored `path`. */
export const legacyOutputKey = (videoId: string, path: string) => `${outputPrefix(videoId)}${path}`;
