// Input for models without a vocabulary: a sequence of vectors, pasted as CSV or loaded from a
// .csv or .npy file. One row per timestep, input_size numbers per row.

import { filePicker } from './filepick.js';
import { t } from './i18n.js';

const MAX_ROWS = 100000; // the server refuses long inputs with its own sentence; this only bounds parsing

/** Rows of numbers from CSV-like text (commas, semicolons, tabs or spaces); throws with a sentence. */
export function parseCsv(text, width) {
  const rows = [];
  const lines = text.split(/\r?\n/);
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k].trim();
    if (!line || line.startsWith('#')) continue;
    const cells = line.split(/[,;\t ]+/).filter((c) => c !== '');
    const row = cells.map(Number);
    if (row.some((x) => !Number.isFinite(x))) {
      if (!rows.length && row.every((x) => Number.isNaN(x))) continue; // a header line
      throw new Error(t('vectors.not_number', { line: k + 1, text: line.slice(0, 40) }));
    }
    if (width && row.length !== width) {
      throw new Error(t('vectors.line_width', { line: k + 1, count: row.length, width }));
    }
    rows.push(row);
    if (rows.length > MAX_ROWS) throw new Error(t('vectors.too_many', { max: MAX_ROWS }));
  }
  if (!rows.length) throw new Error(t('vectors.empty'));
  return rows;
}

const NPY_KINDS = { f4: 'getFloat32', f8: 'getFloat64', i1: 'getInt8', i2: 'getInt16', i4: 'getInt32',
  u1: 'getUint8', u2: 'getUint16', u4: 'getUint32', i8: 'getBigInt64', u8: 'getBigUint64' };

/** A (T, D) or (T,) array from the bytes of a NumPy .npy file (format versions 1 to 3). */
export function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error(t('vectors.npy_magic'));
  const view = new DataView(buffer);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([<>|=]?)([fiu]\d)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape || !NPY_KINDS[descr[2]]) {
    throw new Error(t('vectors.npy_dtype'));
  }
  const fortran = /'fortran_order':\s*True/.test(header);
  const dims = shape[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.length < 1 || dims.length > 2) throw new Error(t('vectors.npy_shape', { shape: dims.join(', ') }));
  const [T, D] = dims.length === 1 ? [dims[0], 1] : dims;
  const size = Number(descr[2].slice(1));
  const little = descr[1] !== '>';
  const offset = start + headerLen;
  if (offset + T * D * size > buffer.byteLength) throw new Error(t('vectors.npy_short'));
  if (T > MAX_ROWS) throw new Error(t('vectors.too_many', { max: MAX_ROWS }));
  const get = view[NPY_KINDS[descr[2]]].bind(view);
  const rows = [];
  for (let t = 0; t < T; t++) {
    const row = new Array(D);
    for (let d = 0; d < D; d++) {
      const k = fortran ? d * T + t : t * D + d;
      row[d] = Number(get(offset + k * size, little));
    }
    rows.push(row);
  }
  return rows;
}

/** Build the vector input inside `el`; `onChange()` runs whenever the rows change. Returns the panel:
 * {show(info), rows()}. */
export function create(el, onChange) {
  const area = document.createElement('textarea');
  area.id = 'vectors-text';
  area.rows = 4;
  area.spellcheck = false;
  area.dataset.i18nAttr = 'aria-label:vectors.area';
  area.setAttribute('aria-label', t('vectors.area'));
  const { label, input: file } = filePicker({ accept: '.csv,.txt,.npy', promptKey: 'vectors.load' });
  const note = document.createElement('p');
  note.className = 'status';
  el.replaceChildren(area, label, note);
  let current = null; // rows, or null when the input does not parse
  let width = 0; // numbers per step the model takes

  const update = (parse) => {
    try {
      current = parse();
      note.textContent = t('vectors.rows', { count: current.length, width: current[0].length });
      note.classList.remove('error');
    } catch (e) {
      current = null;
      note.textContent = e.message;
      note.classList.add('error');
    }
    onChange();
  };
  area.addEventListener('input', () => update(() => parseCsv(area.value, width)));
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    if (f.name.toLowerCase().endsWith('.npy')) {
      const buf = await f.arrayBuffer();
      update(() => {
        const rows = parseNpy(buf);
        if (rows[0].length !== width) throw new Error(t('vectors.npy_features', { got: rows[0].length, width }));
        area.value = rows.map((r) => r.join(', ')).join('\n');
        return rows;
      });
    } else {
      area.value = await f.text();
      update(() => parseCsv(area.value, width));
    }
  });

  return {
    /** Show the panel for vector models (and say how many numbers a step takes); hide it otherwise. */
    show(info) {
      const on = info.input === 'vector';
      el.hidden = !on;
      if (!on) return;
      width = info.input_size;
      area.placeholder = t('vectors.placeholder', { width });
      if (!area.value) {
        // A small default sequence so the page draws something right away.
        area.value = Array.from({ length: 6 }, (_, t) => Array.from({ length: width },
          (_, d) => Math.sin(t + d).toFixed(2)).join(', ')).join('\n');
      }
      area.dispatchEvent(new Event('input'));
    },

    /** The parsed rows, or null when the input does not parse (the panel says why). */
    rows: () => current,
  };
}
