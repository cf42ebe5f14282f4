/** tus-js-client (Node) as the tests and the benchmark drive it. */
import { createHash } from "node:crypto";
import { DefaultHttpStack, Upload, type HttpRequest, type HttpStack } from "tus-js-client";

/** Adds `Upload-Checksum: sha1 …` to every PATCH, computed over the chunk tus-js-client sends. */
export class ChecksumHttpStack implements HttpStack {
  private readonly inner = new DefaultHttpStack({});
  createRequest(method: string, url: string): HttpRequest {
    const request = this.inner.createRequest(method, url);
    const send = request.send.bind(request);
    request.send = (body) => {
      if (method === "PATCH" && body instanceof Uint8Array) {
        request.setHeader("Upload-Checksum", `sha1 ${createHash("sha1").update(body).digest("base64")}`);
      }
      return send(body);
    };
    return request;
  }
  getName() {
    return "ChecksumHttpStack";
  }
}

export interface TusUploadOptions {
  endpoint: string;
  token: string;
  file: Buffer;
  chunkSize: number;
  checksum?: boolean;
  retryDelays?: number[];
  filename?: string;
  onUrl?: (url: string) => void;
}

/** Uploads a file and resolves with its upload URL when tus-js-client reports success. */
export function tusUpload(opts: TusUploadOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(opts.file, {
      endpoint: opts.endpoint,
      chunkSize: opts.chunkSize,
      retryDelays: opts.retryDelays ?? [500, 1000, 2000, 4000],
      headers: { Authorization: `Bearer ${opts.token}` },
      metadata: { filename: opts.filename ?? "clip.mp4", filetype: "video/mp4" },
      ...(opts.checksum ? { httpStack: new ChecksumHttpStack() } : {}),
      onUploadUrlAvailable: () => opts.onUrl?.(upload.url!),
      onSuccess: () => resolve(upload.url!),
      onError: reject,
    });
    upload.start();
  });
}
