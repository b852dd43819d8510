// Orders the units (rows of the heatmaps, bars of the bar charts) so patterns are easier to see.

/** The orders offered; each is named by the catalog key order.<name>. */
export const ORDERS = ['index', 'mean', 'variance', 'similarity', 'change'];

/** Per-unit mean and variance over time of a (T, H) block. */
function moments(x, T, H) {
  const mean = new Float64Array(H);
  const vari = new Float64Array(H);
  for (let t = 0; t < T; t++) for (let u = 0; u < H; u++) mean[u] += x[t * H + u];
  for (let u = 0; u < H; u++) mean[u] /= T;
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < H; u++) {
      const d = x[t * H + u] - mean[u];
      vari[u] += d * d;
    }
  }
  for (let u = 0; u < H; u++) vari[u] /= T;
  return { mean, vari };
}

/**
 * Spectral seriation: units sorted by their loading on the first principal component of the
 * standardised time courses. Units whose values rise and fall together get similar loadings and so
 * end up side by side; power iteration costs O(T*H) a step where pairwise clustering costs O(T*H^2).
 */
function similarityKey(x, T, H, mean, vari) {
  const z = new Float64Array(T * H); // (T, H) standardised
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < H; u++) {
      const s = Math.sqrt(vari[u]);
      z[t * H + u] = s > 1e-9 ? (x[t * H + u] - mean[u]) / s : 0;
    }
  }
  let v = new Float64Array(H).map((_, u) => 1 + ((u * 7919) % 13) / 13); // fixed start: stable orders
  const w = new Float64Array(T);
  for (let it = 0; it < 30; it++) {
    w.fill(0);
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let u = 0; u < H; u++) s += z[t * H + u] * v[u];
      w[t] = s; // w = Z v  (T,)
    }
    const next = new Float64Array(H);
    for (let t = 0; t < T; t++) for (let u = 0; u < H; u++) next[u] += z[t * H + u] * w[t]; // Z^T w  (H,)
    const norm = Math.hypot(...next) || 1;
    v = next.map((a) => a / norm);
  }
  return v;
}

/** |x_t - x_{t-1}| per unit (x_{-1} = 0, the zero initial state): how much each unit moves at step t. */
function changeAt(x, t, H) {
  const key = new Float64Array(H);
  for (let u = 0; u < H; u++) key[u] = Math.abs(x[t * H + u] - (t > 0 ? x[(t - 1) * H + u] : 0));
  return key;
}

/** Unit indices in display order for a (T, H) block `x` under ordering `how` ('change' looks at step t). */
export function unitOrder(x, T, H, how, t = T - 1) {
  const idx = Array.from({ length: H }, (_, u) => u);
  if (how === 'index' || T === 0) return idx;
  if (how === 'change') {
    const key = changeAt(x, Math.min(Math.max(0, t), T - 1), H);
    return idx.sort((a, b) => key[b] - key[a] || a - b);
  }
  const { mean, vari } = moments(x, T, H);
  const key = how === 'mean' ? mean : how === 'variance' ? vari : similarityKey(x, T, H, mean, vari);
  return idx.sort((a, b) => key[b] - key[a] || a - b);
}
