// Charts of the Reports page: plain SVG drawn here (no library, works offline), with a
// labelled y axis (0 to a round maximum) and the periods on the x axis.
const NS = "http://www.w3.org/2000/svg";
// Drawn at about the size shown (a third of a desktop card, a phone's width), so that the
// axes' 12-unit text reads at about 11 px.
const WIDTH = 360;
const HEIGHT = 200;
const PAD = { left: 44, right: 14, top: 10, bottom: 26 };
export const PALETTE = ["#0b6e4f", "#1a56c4", "#b3261e", "#8a5a00", "#6b3fa0", "#00707a", "#5e6678"];

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

// A round top for the axis: 1, 2 or 5 times a power of ten, at least the largest value.
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function frame(root, labels, top, { title, format, xAt = null }) {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  root.append(svg("title", {}, title));
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - fraction);
    root.append(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: PAD.left - 6, y: y + 4, class: "tick", "text-anchor": "end" },
      format(top * fraction)));
  }
  const every = Math.max(1, Math.ceil(labels.length / 6));
  const last = labels.length - 1;
  labels.forEach((label, n) => {
    if (n % every && n !== last) return;
    if (n !== last && last - n < every && n % every === 0 && n !== 0) return; // room for the last
    const x = xAt ? xAt(n) : PAD.left + plotW * (labels.length === 1 ? 0.5 : n / last);
    const edge = !xAt && labels.length > 1;
    const anchor = edge && n === 0 ? "start" : edge && n === last ? "end" : "middle";
    root.append(svg("text", { x, y: HEIGHT - PAD.bottom + 16, class: "tick", "text-anchor": anchor }, label));
  });
  return { plotW, plotH };
}

function chartBox(title) {
  const figure = document.createElement("figure");
  figure.className = "chart";
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title });
  figure.append(caption, root);
  return { figure, root };
}

// Bars: one value per period.
export function barChart({ title, labels, values, format = String }) {
  const { figure, root } = chartBox(title);
  const top = niceMax(Math.max(0, ...values));
  const slotOf = (width) => width / Math.max(1, values.length);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const { plotW, plotH } = frame(root, labels, top, {
    title, format, xAt: (n) => PAD.left + slotOf(plotWidth) * (n + 0.5),
  });
  const slot = slotOf(plotW);
  values.forEach((value, n) => {
    const h = plotH * (value / top);
    const bar = svg("rect", {
      x: PAD.left + slot * n + slot * 0.15, y: PAD.top + plotH - h, width: Math.max(1, slot * 0.7),
      height: h, class: "bar",
    });
    bar.append(svg("title", {}, `${labels[n]}: ${format(value)}`));
    root.append(bar);
  });
  return figure;
}

// Lines: one series per team, a gap where a period has no value (null).
export function lineChart({ title, labels, series, format = String, max = null }) {
  const { figure, root } = chartBox(title);
  const all = series.flatMap((line) => line.values.filter((v) => v !== null));
  const top = max ?? niceMax(Math.max(0, ...all));
  const { plotW, plotH } = frame(root, labels, top, { title, format });
  const xAt = (n) => PAD.left + plotW * (labels.length === 1 ? 0.5 : n / (labels.length - 1));
  const yAt = (v) => PAD.top + plotH * (1 - Math.min(v, top) / top);
  series.forEach((line, index) => {
    const colour = PALETTE[index % PALETTE.length];
    let path = "";
    line.values.forEach((value, n) => {
      if (value === null) return;
      const previous = n > 0 && line.values[n - 1] !== null;
      path += `${previous ? "L" : "M"}${xAt(n).toFixed(1)},${yAt(value).toFixed(1)} `;
      const dot = svg("circle", { cx: xAt(n), cy: yAt(value), r: 2.5, fill: colour });
      dot.append(svg("title", {}, `${line.name} ${labels[n]}: ${format(value)}`));
      root.append(dot);
    });
    if (path) root.append(svg("path", { d: path, class: "series", stroke: colour }));
  });
  figure.append(legendOf(series));
  return figure;
}

function legendOf(series) {
  const legend = document.createElement("ul");
  legend.className = "legend";
  series.forEach((line, index) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = PALETTE[index % PALETTE.length];
    item.append(swatch, document.createTextNode(line.name));
    legend.append(item);
  });
  return legend;
}

// Bars side by side: one group per label, one bar per series (e.g. baseline and scenario).
export function groupedBarChart({ title, labels, series, format = String }) {
  const { figure, root } = chartBox(title);
  const top = niceMax(Math.max(0, ...series.flatMap((line) => line.values)));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const slot = plotWidth / Math.max(1, labels.length);
  const { plotH } = frame(root, labels, top, { title, format, xAt: (n) => PAD.left + slot * (n + 0.5) });
  const width = (slot * 0.8) / Math.max(1, series.length);
  series.forEach((line, index) => {
    line.values.forEach((value, n) => {
      const h = plotH * (value / top);
      const bar = svg("rect", {
        x: PAD.left + slot * n + slot * 0.1 + width * index, y: PAD.top + plotH - h,
        width: Math.max(1, width - 1), height: h, fill: PALETTE[index % PALETTE.length],
      });
      bar.append(svg("title", {}, `${line.name} ${labels[n]}: ${format(value)}`));
      root.append(bar);
    });
  });
  figure.append(legendOf(series));
  return figure;
}
