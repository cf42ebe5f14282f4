/**
 * The tiers of a master playlist, for the quality menu of the browser's own HLS player (which
 * offers none): each variant's name, as the transcoder names tiers (the picture's short side, so a
 * portrait 720x1280 tier is "720p"), and its media playlist's URL. Choosing one plays that
 * playlist alone; "Auto" plays the master again.
 */
export interface Variant {
  name: string;
  url: string;
}

/** A tier's name from its picture size: the short side, as the transcoder names tiers. */
export const tierName = (width: number, height: number): string => `${Math.min(width, height) || Math.max(width, height)}p`;

export function parseVariants(master: string, masterUrl: string): Variant[] {
  const lines = master.split(/\r?\n/).map((l) => l.trim());
  const variants: Variant[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith("#EXT-X-STREAM-INF:")) return;
    const uri = lines.slice(i + 1).find((l) => l !== "" && !l.startsWith("#"));
    const size = /RESOLUTION=(\d+)x(\d+)/.exec(line);
    if (!uri) return;
    variants.push({ name: size ? tierName(Number(size[1]), Number(size[2])) : uri, url: new URL(uri, masterUrl).toString() });
  });
  return variants;
}
