// Saving a figure that the page draws as its own SVG (the step diagram) as an SVG or PNG file: the SVG is
// cloned with the page's CSS written into each element's style, since a file carries no stylesheet.

const PROPS = ['fill', 'stroke', 'stroke-width', 'font-family', 'font-size', 'font-weight', 'text-anchor'];

function standalone(svg) {
  const copy = svg.cloneNode(true);
  const from = [svg, ...svg.querySelectorAll('*')];
  const to = [copy, ...copy.querySelectorAll('*')];
  from.forEach((node, k) => {
    const css = getComputedStyle(node);
    to[k].setAttribute('style', PROPS.map((p) => `${p}:${css.getPropertyValue(p)}`).join(';'));
  });
  const box = svg.viewBox.baseVal;
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.setAttribute('width', String(box.width));
  copy.setAttribute('height', String(box.height));
  return new XMLSerializer().serializeToString(copy);
}

/** Hand `blob` to the browser as a download named `name`: a local object URL, nothing leaves the machine. */
export function hand(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Download `svg` (an element on the page) as `${name}.svg` or, drawn at twice its size, `${name}.png`. */
export async function save(svg, name, format) {
  const text = standalone(svg);
  if (format === 'svg') {
    hand(new Blob([text], { type: 'image/svg+xml' }), `${name}.svg`);
    return;
  }
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  await img.decode();
  const canvas = Object.assign(document.createElement('canvas'), { width: img.width * 2, height: img.height * 2 });
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  hand(await new Promise((resolve) => canvas.toBlob(resolve, 'image/png')), `${name}.png`);
}
