// Gallery view: the column count that gives the biggest tiles of a fixed aspect ratio when all
// tiles must fit the available box. Below a minimum tile width the grid scrolls instead.

export interface GalleryLayout {
  columns: number;
  tileWidth: number;
}

export interface GalleryOptions {
  gap?: number;
  aspectRatio?: number;
  minTileWidth?: number;
}

export function galleryLayout(
  count: number,
  width: number,
  height: number,
  { gap = 12, aspectRatio = 16 / 9, minTileWidth = 180 }: GalleryOptions = {},
): GalleryLayout {
  const tiles = Math.max(1, count);
  let best: GalleryLayout = { columns: 1, tileWidth: 0 };
  for (let columns = 1; columns <= tiles; columns++) {
    const rows = Math.ceil(tiles / columns);
    const widthPerTile = (width - gap * (columns - 1)) / columns;
    const widthFittingHeight = ((height - gap * (rows - 1)) / rows) * aspectRatio;
    const tileWidth = Math.floor(Math.min(widthPerTile, widthFittingHeight));
    if (tileWidth > best.tileWidth) best = { columns, tileWidth };
  }
  if (best.tileWidth >= minTileWidth || width <= minTileWidth) return best;
  const columns = Math.max(1, Math.min(tiles, Math.floor((width + gap) / (minTileWidth + gap))));
  return { columns, tileWidth: Math.floor((width - gap * (columns - 1)) / columns) };
}
