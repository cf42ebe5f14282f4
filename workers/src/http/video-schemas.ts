import { z } from "@hono/zod-openapi";
import type { SameShape } from "./openapi.ts";
import { VIDEO_STATUSES, VISIBILITIES } from "../../../contract/video.ts";
import type { JobInfo, VideoResponse, ViewerCardResponse } from "../../../contract/api.ts";

/** The schemas of a video as the API shows it; their types are checked against contract/api.ts below. */
export const VideoIdParam = z.object({
  id: z.string().openapi({
    param: { name: "id", in: "path" },
    description: "The video id (a UUID v4).",
    example: "0b9a3c1e-5f2d-4c8a-9e7b-1d2c3b4a5f60",
  }),
});

const Rendition = z.object({ name: z.string(), width: z.number().int(), height: z.number().int(), bandwidth: z.number().int() });

const viewerFields = {
  id: z.string(),
  ownerId: z.string(),
  title: z.string(),
  visibility: z.enum(VISIBILITIES),
  status: z.enum(VIDEO_STATUSES),
  progress: z.number().min(0).max(100),
  playable: z.boolean().openapi({ description: "True as soon as a viewer can start watching." }),
  hlsUrl: z.string().nullable(),
  posterUrl: z.string().nullable(),
  storyboardUrl: z.string().nullable(),
  durationSec: z.number().nullable(),
  renditions: z.array(Rendition),
  createdAt: z.string().openapi({ format: "date-time" }),
  readyAt: z.string().nullable().openapi({ format: "date-time" }),
  downloadable: z.boolean(),
  downloadUrl: z.string().nullable(),
};

/** The owner's (and admins' and keys with videos:read) view of a video. */
export const VideoSchema = z
  .object({
    ...viewerFields,
    message: z.string().openapi({ description: "A sentence for the creator about the current state." }),
    sourceBytes: z.number().int().nullable(),
    sourceSha256: z.string().nullable(),
    error: z.string().nullable().openapi({ description: "The failure reason when FAILED." }),
  })
  .openapi("Video");

/** Anyone else's view of a public playable video (or one opened with a share link). */
export const ViewerCardSchema = z.object(viewerFields).openapi("ViewerCard");

export const JobInfoSchema = z
  .object({
    attempts: z.number().int(),
    priority: z.number().int(),
    lastError: z.string().nullable(),
    actions: z.object({ cancel: z.boolean(), retry: z.boolean(), prioritize: z.boolean() }),
  })
  .openapi("JobInfo");

export const VideoListSchema = z
  .object({
    videos: z.array(
      VideoSchema.extend({
        views: z.number().int().openapi({ description: "Playback sessions that started, all time." }),
        watchSeconds: z.number().int().openapi({ description: "Seconds actually played, all time." }),
        job: JobInfoSchema.optional(),
      }),
    ),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last page." }),
  })
  .openapi("VideoList");

// The schemas and the contract's types must describe the same JSON (a compile error otherwise).
const sameVideo: SameShape<z.infer<typeof VideoSchema>, VideoResponse> = true;
const sameCard: SameShape<z.infer<typeof ViewerCardSchema>, ViewerCardResponse> = true;
const sameJob: SameShape<z.infer<typeof JobInfoSchema>, JobInfo> = true;
void [sameVideo, sameCard, sameJob];
