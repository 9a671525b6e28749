import { formatNumber } from './report.js';

/** One cluster of bars: one load, each server's throughput under it. */
export interface ChartGroup {
  label: string;
  bars: Array<{ subject: string; value: number }>;
}

const PALETTE = ['#2563eb', '#0f766e', '#9ca3af', '#f59e0b', '#16a34a', '#a855f7', '#dc2626'];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The powers of ten that enclose every value: the log axis's range. */
export function decadesAround(values: readonly number[]): [low: number, high: number] {
  const positive = values.filter((value) => value > 0);
  if (positive.length === 0) return [1, 10];
  const low = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  return [low, high > low ? high : low * 10];
}

/**
 * A grouped bar chart as a self-contained SVG (no library, no script, no external font), so a
 * README on any host shows it. The axis is logarithmic: the figures span more than two decades
 * (a raw pipe echo against a thread-per-client Python server), and equal ratios look equal.
 * Each subject keeps its colour across groups (from `colours`, else a palette).
 *
 * @example
 * ```ts
 * const svg = barChart('throughput', 'lines/s', [{ label: '1 x 256', bars: [{ subject: 'pipe', value: 1.7e6 }] }], 'caption');
 * ```
 */
export function barChart(
  title: string,
  unit: string,
  groups: readonly ChartGroup[],
  caption: string,
  colours: Readonly<Record<string, string>> = {},
): string {
  // The legend lists the subjects in the order `colours` names them (ours first), then the rest.
  const known = Object.keys(colours);
  const rank = (subject: string): number => (known.includes(subject) ? known.indexOf(subject) : known.length);
  const subjects = [...new Set(groups.flatMap((group) => group.bars.map((bar) => bar.subject)))].sort(
    (a, b) => rank(a) - rank(b),
  );
  const colour = (subject: string): string => colours[subject] ?? PALETTE[subjects.indexOf(subject) % PALETTE.length]!;
  const width = 980;
  const left = 78;
  const right = 20;
  const top = 64;
  const plotHeight = 300;
  const legendRows = Math.ceil(subjects.length / 2);
  const height = top + plotHeight + 56 + legendRows * 20 + 10;
  const plotWidth = width - left - right;
  const [low, high] = decadesAround(groups.flatMap((group) => group.bars.map((bar) => bar.value)));
  const span = Math.log10(high) - Math.log10(low);
  const y = (value: number): number =>
    top + plotHeight - ((Math.log10(Math.max(value, low)) - Math.log10(low)) / span) * plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="26" font-size="17" font-weight="bold" fill="#111827">${escapeXml(title)}</text>`,
    `<text x="${left}" y="46" font-size="12" fill="#4b5563">${escapeXml(caption)}</text>`,
  ];
  for (let decade = low; decade <= high * 1.0001; decade *= 10) {
    for (const step of decade < high ? [1, 2, 5] : [1]) {
      const ty = y(decade * step).toFixed(1);
      parts.push(
        `<line x1="${left}" x2="${width - right}" y1="${ty}" y2="${ty}" stroke="${step === 1 ? '#d1d5db' : '#f3f4f6'}"/>`,
      );
      parts.push(
        `<text x="${left - 8}" y="${Number(ty) + 4}" font-size="${step === 1 ? 11 : 9}" text-anchor="end" fill="#374151">${escapeXml(formatNumber(decade * step).replace('.00', ''))}</text>`,
      );
    }
  }
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${y(low)}" y2="${y(low)}" stroke="#374151"/>`,
    `<text transform="translate(16 ${top + plotHeight / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#374151">${escapeXml(`${unit} (log scale)`)}</text>`,
  );

  const groupWidth = plotWidth / Math.max(1, groups.length);
  groups.forEach((group, index) => {
    const x0 = left + index * groupWidth;
    const barWidth = Math.min(44, (groupWidth - 24) / Math.max(1, group.bars.length));
    const start = x0 + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, barIndex) => {
      const x = start + barIndex * barWidth;
      const top = y(bar.value);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 3).toFixed(1)}" height="${(y(0) - top).toFixed(1)}" fill="${colour(bar.subject)}"><title>${escapeXml(`${bar.subject}: ${formatNumber(bar.value)} ${unit}`)}</title></rect>`,
        `<text x="${(x + (barWidth - 3) / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" font-size="9.5" text-anchor="middle" fill="#111827">${escapeXml(formatNumber(bar.value).replace(' ', ''))}</text>`,
      );
    });
    parts.push(
      `<text x="${(x0 + groupWidth / 2).toFixed(1)}" y="${top + plotHeight + 18}" font-size="12" text-anchor="middle" fill="#111827">${escapeXml(group.label)}</text>`,
    );
  });
  parts.push(
    `<text x="${left + plotWidth / 2}" y="${top + plotHeight + 36}" font-size="11" text-anchor="middle" fill="#4b5563">connections x lines in flight per connection</text>`,
  );

  subjects.forEach((subject, index) => {
    const lx = left + (index % 2) * (plotWidth / 2);
    const ly = top + plotHeight + 56 + Math.floor(index / 2) * 20;
    parts.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colour(subject)}"/>`,
      `<text x="${lx + 18}" y="${ly}" font-size="12" fill="#111827">${escapeXml(subject)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
