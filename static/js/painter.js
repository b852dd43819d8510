// Two painters with one small interface, so that one drawing routine (canvaschart.js's scenes) paints the page's
// canvas and writes the SVG file a person downloads: rect, circle, line, path, text, image, measure, all in CSS
// pixels. Text is drawn as text on the canvas and escaped in the SVG: user text is never markup. An image (the
// heatmaps' cells, one pixel per cell) is stretched without smoothing, and goes into the SVG as an embedded PNG
// (data: URL).

import { FONT } from './plot.js';

const scratch = document.createElement('canvas').getContext('2d'); // text measuring for both painters
const font = (size, bold) => `${bold ? 'bold ' : ''}${size}px ${FONT}`;

/** The width in px of `s` at `size` px. */
export function measure(s, size, bold = false) {
  scratch.font = font(size, bold);
  return scratch.measureText(s).width;
}

/** `s` cut to at most `room` px at `size` px, with an ellipsis when cut (one character and the ellipsis at least);
 * `s` itself when cutting would not make it narrower (one wide character: the caller leaves it out if it collides). */
export function fitText(s, size, room) {
  const whole = measure(s, size);
  if (whole <= room) return s;
  const chars = Array.from(s);
  while (chars.length > 1 && measure(`${chars.join('')}…`, size) > room) chars.pop();
  const cut = `${chars.join('')}…`;
  return measure(cut, size) < whole ? cut : s;
}

/** A painter on 2d context `g` (already scaled to CSS pixels). */
export function canvasPainter(g) {
  const stroke = (colour, width, dash) => {
    g.strokeStyle = colour;
    g.lineWidth = width;
    g.setLineDash(dash || []);
    g.stroke();
  };
  return {
    measure,
    rect(x, y, w, h, fill, line) {
      if (fill) { g.fillStyle = fill; g.fillRect(x, y, w, h); }
      if (line) { g.beginPath(); g.rect(x, y, w, h); stroke(line.colour, line.width); }
    },
    circle(x, y, r, fill, alpha = 1, line = null) {
      g.beginPath();
      g.arc(x, y, r, 0, 2 * Math.PI);
      if (fill) { g.globalAlpha = alpha; g.fillStyle = fill; g.fill(); g.globalAlpha = 1; }
      if (line) stroke(line.colour, line.width);
    },
    line(x0, y0, x1, y1, colour, width = 1, dash = null) {
      g.beginPath();
      g.moveTo(x0, y0);
      g.lineTo(x1, y1);
      stroke(colour, width, dash);
    },
    /** A line through the points `pts` [x0, y0, x1, y1, ...] (one call for a whole series), or with `fill` the
     * polygon they close, filled at opacity `alpha`. */
    path(pts, { colour = null, width = 1, dash = null, fill = null, alpha = 1 } = {}) {
      g.beginPath();
      g.moveTo(pts[0], pts[1]);
      for (let k = 2; k < pts.length; k += 2) g.lineTo(pts[k], pts[k + 1]);
      if (fill) { g.closePath(); g.globalAlpha = alpha; g.fillStyle = fill; g.fill(); g.globalAlpha = 1; }
      g.lineJoin = 'round'; // a thick line's sharp turns would otherwise stick out past its points
      if (colour) stroke(colour, width, dash);
      g.lineJoin = 'miter';
    },
    /** `s` at (x, y): align 'left' | 'center' | 'right', base 'top' | 'middle' | 'bottom', rotated -90° if up. */
    text(s, x, y, { size, align = 'left', base = 'middle', colour = '#000', bold = false, up = false }) {
      g.save();
      g.translate(x, y);
      if (up) g.rotate(-Math.PI / 2);
      g.font = font(size, bold);
      g.fillStyle = colour;
      g.textAlign = align;
      g.textBaseline = base;
      g.fillText(s, 0, 0);
      g.restore();
    },
    /** Source canvas `src`'s rectangle (sx, sy, sw, sh) stretched onto (x, y, w, h), each pixel a sharp block. */
    image(src, sx, sy, sw, sh, x, y, w, h) {
      g.imageSmoothingEnabled = false;
      g.drawImage(src, sx, sy, sw, sh, x, y, w, h);
      g.imageSmoothingEnabled = true;
    },
  };
}

/** Canvas `src`'s rectangle (sx, sy, sw, sh) as a PNG data: URL (made here: nothing leaves the machine). */
function crop(src, sx, sy, sw, sh) {
  const c = Object.assign(document.createElement('canvas'), { width: sw, height: sh });
  c.getContext('2d').drawImage(src, sx, sy, sw, sh, 0, 0, sw, sh);
  return c.toDataURL('image/png');
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v) => Math.round(v * 100) / 100;
const ANCHOR = { left: 'start', center: 'middle', right: 'end' };
const BASELINE = { top: 'hanging', middle: 'central', bottom: 'text-after-edge' };

/** A painter writing SVG elements; done() gives the whole file's text. */
export function svgPainter(width, height) {
  const out = [];
  const stroke = (line, dash) => (line
    ? ` stroke="${line.colour}" stroke-width="${line.width}"${dash ? ` stroke-dasharray="${dash.join(' ')}"` : ''}`
    : '');
  return {
    measure,
    rect(x, y, w, h, fill, line) {
      out.push(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="${fill || 'none'}"${stroke(line)}/>`);
    },
    circle(x, y, r, fill, alpha = 1, line = null) {
      out.push(`<circle cx="${n(x)}" cy="${n(y)}" r="${n(r)}" fill="${fill || 'none'}" fill-opacity="${alpha}"`
        + `${stroke(line)}/>`);
    },
    line(x0, y0, x1, y1, colour, width = 1, dash = null) {
      out.push(`<line x1="${n(x0)}" y1="${n(y0)}" x2="${n(x1)}" y2="${n(y1)}"${stroke({ colour, width }, dash)}/>`);
    },
    path(pts, { colour = null, width = 1, dash = null, fill = null, alpha = 1 } = {}) {
      const points = [];
      for (let k = 0; k < pts.length; k += 2) points.push(`${n(pts[k])},${n(pts[k + 1])}`);
      const paint = fill ? `polygon fill="${fill}" fill-opacity="${alpha}"` : 'polyline fill="none"';
      out.push(`<${paint} points="${points.join(' ')}" stroke-linejoin="round"${stroke(colour && { colour, width }, dash)}/>`);
    },
    text(s, x, y, { size, align = 'left', base = 'middle', colour = '#000', bold = false, up = false }) {
      const turn = up ? ` transform="rotate(-90 ${n(x)} ${n(y)})"` : '';
      out.push(`<text x="${n(x)}" y="${n(y)}" font-size="${size}" fill="${colour}" text-anchor="${ANCHOR[align]}"`
        + ` dominant-baseline="${BASELINE[base]}"${bold ? ' font-weight="bold"' : ''}${turn}>${esc(s)}</text>`);
    },
    image(src, sx, sy, sw, sh, x, y, w, h) {
      out.push(`<image x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" preserveAspectRatio="none"`
        + ` style="image-rendering:pixelated" href="${crop(src, sx, sy, sw, sh)}"/>`);
    },
    done() {
      return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" `
        + `viewBox="0 0 ${width} ${height}" font-family="${esc(FONT)}"><rect width="100%" height="100%" fill="#fff"/>`
        + `${out.join('')}</svg>`;
    },
  };
}
