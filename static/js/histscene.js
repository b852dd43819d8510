// A histogram as a canvaschart.js scene (corpusunit.js: one unit's values over the corpus): one bar per bin,
// its count in the bin's tip, and dashed lines at two limits (the unit's saturation thresholds).

import { decimals, frame, scale, ticks } from './axes.js';
import { fmt } from './format.js';
import { language, t } from './i18n.js';
import { px } from './plot.js';

const BAR = '#0072B2';
const LIMIT = '#D55E00';

/**
 * The scene of `counts` (one per bin) over bin `edges` (one more than the counts), with dashed lines at each of
 * `limits` within the edges; `title` names the x axis, `label` says what the figure shows, `key` names its base.
 */
export function histogram({ edges, counts, limits, title, label, key }) {
  const xr = [edges[0], edges[edges.length - 1]];
  const yr = [0, Math.max(1, ...counts) * 1.05];
  const compact = new Intl.NumberFormat(language(), { notation: 'compact' });
  const area = (w, h) => ({ x: px(70), y: px(10), w: w - px(70) - px(20), h: h - px(10) - px(56) });
  return {
    key,
    label,
    height: () => px(260),
    base(p, w, h) {
      const box = area(w, h);
      const xt = ticks(xr[0], xr[1], 6);
      const yt = ticks(0, yr[1], 4);
      frame(p, box, { size: px(13), titleSize: px(15),
        x: { range: xr, ticks: xt, label: decimals(xt), title },
        // v + 0: the ticks' first may be -0, which would read "-0"
        y: { range: yr, ticks: yt, label: (v) => compact.format(v + 0), title: t('corpus.hist_y') } });
      const sx = scale(xr, [box.x, box.x + box.w]);
      const sy = scale(yr, [box.y + box.h, box.y]);
      const hits = counts.map((n, k) => {
        const [x0, x1] = [sx(edges[k]), sx(edges[k + 1])];
        const y = sy(n);
        p.rect(x0, y, x1 - x0, box.y + box.h - y, BAR);
        return { x: (x0 + x1) / 2, y: box.y + box.h / 2, hw: (x1 - x0) / 2, hh: box.h / 2,
          tip: () => t('corpus.hist_tip', { lo: fmt(edges[k], 3), hi: fmt(edges[k + 1], 3), count: n }) };
      });
      const lines = limits.filter((v) => v >= xr[0] && v <= xr[1]);
      for (const v of lines) p.line(sx(v), box.y, sx(v), box.y + box.h, LIMIT, 2, [4, 4]);
      return { hits, drawn: { box, edges: [...edges], counts: [...counts], limits: lines } };
    },
    over: () => ({}),
  };
}
