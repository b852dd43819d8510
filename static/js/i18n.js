// The page in English or Simplified Chinese. Every sentence the page shows comes from the message
// catalogs static/i18n/en.json and static/i18n/zh-CN.json, which the server reads too (app/i18n.py) for
// its error sentences. The whole API:
//
//   t(key, params)        the message `key` in the current language, `{name}` placeholders filled from
//                         `params`. With a numeric `params.count`, the plural form `key.one` / `key.other`
//                         that Intl.PluralRules picks (Chinese has only `.other`).
//   language()            'en' or 'zh-CN'
//   init(load)            once, at start: choose the language (?lang= in the URL, else the one this browser
//                         chose before (localStorage), else the server's pick from Accept-Language, which it
//                         wrote into <html lang>), load its catalog with `load(lang)` (api.getCatalog), and
//                         translate the page shell
//   setLanguage(lang)     switch: load, remember in localStorage, translate the shell, then fire
//                         `gs:language` on document so that main.js redraws the views
//   apply(root)           translate root's elements marked in the template: data-i18n="key" sets the text,
//                         data-i18n-attr="placeholder:key;aria-label:key" sets attributes
//   explicit()            true when the language was chosen (switch or URL), so links should carry it
//   has(key)              whether the catalogs hold `key` (model summaries exist for the shipped models only)
//   parts(key, params)    like t(), as a list of strings and DOM nodes: a param that is a Node (a highlighted
//                         number) takes its placeholder's place in the translated sentence
//
// Keys are flat and dotted: "step.card.forget". A new string: add the key to both catalogs and call t().
// tests/app/test_i18n.py fails on a key missing from either catalog, a t() call naming a key that does not
// exist, a key nothing uses, differing placeholders, or a Chinese message left identical to the English.

export const LANGUAGES = ['en', 'zh-CN'];
const STORE = 'gatescope.lang';
const PLACEHOLDER = /(?<!%)\{(\w+)\}/g; // not %{x}: Plotly's hover templates use that inside messages

const catalogs = {};
let current = 'en';
let rules = new Intl.PluralRules('en');
let chosen = false;
let loader = null;

const known = (code) => (LANGUAGES.includes(code) ? code : null);

/** The language the page is in. */
export const language = () => current;

/** Whether the reader chose the language (the switch or ?lang=), rather than the browser's default. */
export const explicit = () => chosen;

/** Message `key` in the current language (English if this language lacks it) with its placeholders filled. */
export function t(key, params = {}) {
  const cat = catalogs[current] || {};
  const en = catalogs.en || {};
  let k = key;
  if (typeof params.count === 'number' && (`${key}.other` in cat || `${key}.other` in en)) {
    const form = `${key}.${rules.select(params.count)}`;
    k = form in cat ? form : `${key}.other`;
  }
  const text = cat[k] ?? en[k] ?? k;
  return text.replace(PLACEHOLDER, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Whether the catalogs have message `key` (for messages that exist for some ids only: model summaries). */
export const has = (key) => key in (catalogs[current] || catalogs.en || {});

/** t(), but params that are DOM nodes stay nodes: [text, node, text, ...] to append to an element. */
export function parts(key, params = {}) {
  const nodes = Object.fromEntries(Object.entries(params).filter(([, v]) => v instanceof Node));
  const text = t(key, Object.fromEntries(Object.entries(params).filter(([k]) => !(k in nodes))));
  const out = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!(m[1] in nodes)) continue;
    out.push(text.slice(last, m.index), nodes[m[1]]);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((x) => x !== '');
}

/** Translate the elements under `root` that carry data-i18n / data-i18n-attr. */
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      el.setAttribute(attr, t(key));
    }
  }
}

async function use(lang, translated = false) {
  if (!catalogs[lang]) catalogs[lang] = await loader(lang);
  // English, the fallback of a message missing from another catalog (tests/app/test_i18n.py lets none be), is not
  // waited for: the page's own catalog came with the shell (api.js), and the page need not wait for a second.
  if (!catalogs.en) loader('en').then((cat) => { catalogs.en = cat; }, () => {});
  current = lang;
  rules = new Intl.PluralRules(lang);
  document.documentElement.lang = lang;
  if (!translated) apply();
}

function stored() {
  try {
    return localStorage.getItem(STORE);
  } catch {
    return null; // storage disabled: the URL and Accept-Language still work
  }
}

/** Choose the language, load its catalog and translate the shell; `load(lang)` returns a catalog. */
export async function init(load) {
  loader = load;
  const fromUrl = known(new URLSearchParams(location.search).get('lang'));
  const remembered = known(stored());
  chosen = Boolean(fromUrl || remembered);
  // Said at once, so the requests main.js makes while the catalogs load already ask for this language.
  const served = known(document.documentElement.lang); // the language the server wrote the shell in
  current = fromUrl || remembered || served || 'en';
  // In the server's language the shell is translated already: not again, which would restyle the whole page.
  await use(current, current === served);
}

/** Switch to `lang`, remember it in this browser, and tell the page (`gs:language`). */
export async function setLanguage(lang) {
  if (!known(lang)) return;
  await use(lang);
  chosen = true;
  try {
    localStorage.setItem(STORE, lang);
  } catch {
    // not remembered, but the URL carries it
  }
  document.dispatchEvent(new CustomEvent('gs:language', { detail: { lang } }));
}
