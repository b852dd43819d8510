// Runs as the parser reaches it, before the first paint (a classic script, not a module): a link's own text, in the
// fragment (#text=...), which never reaches the server, replaces the example the server wrote into the text box, so
// the box never shows one text and then another. main.js reads the box when it starts and keeps what was typed.
(() => {
  const text = new URLSearchParams(location.hash.slice(1)).get('text');
  const box = document.getElementById('text');
  if (text !== null && box) box.value = text;
})();
