/**
 * R2 key layout. Sources and outputs live apart so that playback can never reach a source:
 *   sources/<videoId>            the uploaded file
 *   videos/<videoId>/...         HLS playlists, segments, poster
 */
export const sourceKey = (videoId: string) => `sources/${videoId}`;
export const outputPrefix = (videoId: string) => `videos/${videoId}/`;
