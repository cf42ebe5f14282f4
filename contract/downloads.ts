/**
 * The MP4 download of a video (`GET /videos/:id/download.mp4`): the fields a video card carries
 * about it. `PATCH /api/videos/:id` accepts `{downloadable: boolean}` (owner).
 */
export interface DownloadFields {
  /** Anyone who may watch the video may download it; the owner always may. */
  downloadable: boolean;
  /**
   * Where to download the MP4 (a path, like hlsUrl): for a viewer when the video is downloadable,
   * always for the owner; null before the video is READY. A private video's carries a signed token.
   */
  downloadUrl: string | null;
}
