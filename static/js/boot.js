// Runs as the parser reaches it, before the first paint (a classic script, not a module): a link's own text, in the
// fragment (#text=...), which never reaches the server, replaces the example the server wrote into the text box, so
// the box never shows one text and then another. main.js reads the box when it starts and keeps what was typed.
//
// Then it asks for the first trace of that text, so that the server computes it while the page's modules load:
// api.js's trace() adopts this request when the page's first one asks exactly the same (else it is not used). Not
// for a lesson link or ?wrap=, whose first text or request the page decides once it has the lesson or the model.
(() => {
  const text = new URLSearchParams(location.hash.slice(1)).get('text');
  const box = document.getElementById('text');
  if (text !== null && box) box.value = text;
  const query = new URLSearchParams(location.search);
  if (!box || !box.value || !box.dataset.model || query.has('lesson') || query.has('wrap')) return;
  const lang = document.documentElement.lang;
  const body = { model: box.dataset.model, text: box.value, top_k: 5, layers: null, format: 'binary',
    vectors: null, wrap: false, held: null };
  const stop = new AbortController(); // the adopting request's signal, passed on (api.js early())
  const answer = fetch('/api/trace', { method: 'POST', body: JSON.stringify(body), signal: stop.signal,
    headers: { 'Accept-Language': lang, 'Content-Type': 'application/json' } });
  answer.catch(() => {}); // a failure is the page's to report, when it adopts the request
  window.gatescopeEarly = { body, lang, answer, stop };
})();
