// The header before the first snapshot: how far the first scan has got (a large node's takes
// seconds), as the collector's thread tells it.
import { grouped } from '../../../common/format.js';
import { screenText as esc } from '../../../common/text.js';
import type { ScanProgress } from '../../../scan/index.js';
import { fit } from '../../format.js';
import type { Layout } from './layout.js';
import { meter } from './meters.js';
import type { Painter } from '../../painter.js';

/** The processes meter's width at most: a bar across 200 columns says no more than one across 50. */
const METER_WIDTH = 50;

/**
 * "inotop: first scan…", then, left of the sparkline, "processes[|||||   1,234/5,678 22%]  45,678
 * watches so far" while it reads, and what it does next once every process is read.
 */
export function firstScanLines(progress: ScanProgress | null, l: Layout, painter: Painter): string[] {
  const title = painter.paint('title', esc(fit('inotop: first scan…', l.width)));
  if (progress === null) return [title];
  const width = l.sparkline.left - 1;
  const watches = `${grouped(progress.watches)} watch${progress.watches === 1 ? '' : 'es'}`;
  if (progress.read >= progress.of) {
    return [title, esc(fit(`${grouped(progress.of)} processes read, ${watches}; resolving…`, width))];
  }
  const meterWidth = Math.min(METER_WIDTH, Math.floor(width / 2));
  return [title, meter('processes', progress.read, progress.of, meterWidth, painter) + esc(fit(`  ${watches} so far`, width - meterWidth))];
}
