// The HTML report's script (tree_html.cc): reads the JSON data the page carries, folds
// identical siblings, applies the search and the filters of the URL fragment, and draws the
// tree beside its timeline. Data reaches the page only through textContent: argv is hostile
// input and never becomes markup. Every walk over the tree is iterative (chains can be
// 200,000 deep).
#pragma once
#include <string_view>

namespace progeny {

inline constexpr std::string_view kHtmlReportScript = R"js(
'use strict';
(() => {
  const started = performance.now();
  const data = JSON.parse(document.getElementById('progeny-data').textContent);
  const procs = data.procs;
  const span = Math.max(data.span_ns, 1);
  const $ = (id) => document.getElementById(id);

  // --- formatting ---
  function duration(ns) {
    const s = ns / 1e9;
    if (ns < 1e6) return (ns / 1e6).toFixed(2) + 'ms';
    if (ns < 1e9) return Math.floor(ns / 1e6) + 'ms';
    if (s < 60) return s.toFixed(2) + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
    return Math.floor(s / 3600) + 'h' + String(Math.floor(s / 60) % 60).padStart(2, '0') + 'm';
  }
  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let k = 0;
    while (n >= 1024 && k + 1 < units.length) { n /= 1024; ++k; }
    return (k ? n.toFixed(1) : String(n)) + ' ' + units[k];
  }
  // Cost fields by how their name ends: the unit, and how a folded row combines them. A figure
  // named inclusive (a reaper's wait4: the subtree's) is never added up; peaks and lifetimes
  // take the maximum; self times add up. Unknown names are shown as plain numbers.
  const UNITS = [
    [/_ns$/, (v) => duration(v)], [/_us$/, (v) => duration(v * 1e3)],
    [/_ms$/, (v) => duration(v * 1e6)], [/_(kb|kib)$/, (v) => bytes(v * 1024)],
    [/_bytes$/, (v) => bytes(v)], [/./, (v) => String(v)],
  ];
  const FOLDS = [[/incl/, null], [/rss|peak|max|lifetime/, Math.max], [/./, (a, b) => a + b]];
  const pick = (table, name) => table.find(([re]) => re.test(name))[1];
  const costLabel = (name) => name.replace(/_(ns|us|ms|kb|kib|bytes)$/, '').replace(/_/g, ' ')
      .replace(/^inclusive (.*)/, '$1, inclusive (wait4: with its waited-for descendants)');

  // --- the tree's shape, computed once ---
  const depth = new Int32Array(procs.length);
  {
    const stack = data.roots.slice();
    while (stack.length) {
      const i = stack.pop();
      for (const k of procs[i].kids) { depth[k] = depth[i] + 1; stack.push(k); }
    }
  }
  const argvText = (p) => p.execs.map((e) => e.argv.join(' ')).join(' ');
  const searchTexts = [];
  const searchText = (i) => searchTexts[i] ??= (procs[i].pid + ' ' + procs[i].line).toLowerCase();

  // --- state: the URL fragment is the single source of truth ---
  const FIELDS = ['q', 'filter', 'argv', 'pid', 'depth', 'sort', 'expand', 'sel'];
  const INPUTS = ['q', 'filter', 'argv', 'pid', 'depth', 'sort'];
  const expanded = new Set();  // fold groups the user opened
  function readState() {
    const f = new URLSearchParams(location.hash.slice(1));
    const st = {};
    for (const k of FIELDS) st[k] = f.get(k) || '';
    return st;
  }
  function writeState(st) {
    const f = new URLSearchParams();
    for (const k of FIELDS) if (st[k]) f.set(k, st[k]);
    history.replaceState(null, '', '#' + f.toString());
  }
  // Only what differs is written back, so typing in a field keeps its cursor.
  function syncControls(st) {
    for (const k of INPUTS) if ($(k).value !== st[k]) $(k).value = st[k];
    $('expand').checked = st.expand === 'all';
  }
  function controlsState() {
    const st = readState();
    for (const k of INPUTS) st[k] = $(k).value;
    st.expand = $('expand').checked ? 'all' : '';
    return st;
  }

  // --- what is shown: the scope (pid subtree, depth), the matches, their ancestors ---
  function select(st) {
    const errors = [];
    let roots = data.roots;
    if (st.pid.trim()) {
      const pid = Number(st.pid);
      roots = [];
      procs.forEach((p, i) => { if (p.pid === pid) roots.push(i); });
      if (!roots.length) errors.push('no process with pid ' + st.pid);
    }
    let maxDepth = Infinity;
    if (st.depth.trim()) {
      maxDepth = Number(st.depth);
      if (!Number.isInteger(maxDepth) || maxDepth < 0) { errors.push('depth must be a number'); maxDepth = Infinity; }
    }
    const tests = [];
    if (st.filter === 'runaways') tests.push((i) => procs[i].marks.includes('runaway'));
    else if (st.filter === 'failures') tests.push((i) => procs[i].class === 'fail' || procs[i].class === 'signal');
    else if (st.filter) errors.push('unknown filter ' + st.filter + ' (runaways, failures)');
    if (st.argv) tests.push((i) => argvText(procs[i]).includes(st.argv));
    if (st.sort && procs.length && !(st.sort in procs[0].rank))
      errors.push('unknown sort ' + st.sort + ' (start, cpu, rss, lifetime)');
    if (st.q) { const q = st.q.toLowerCase(); tests.push((i) => searchText(i).includes(q)); }

    const inScope = [];
    const stack = roots.slice();
    while (stack.length) {
      const i = stack.pop();
      if (depth[i] > maxDepth) continue;
      inScope.push(i);
      for (const k of procs[i].kids) stack.push(k);
    }
    const visible = new Uint8Array(procs.length);
    const hits = new Uint8Array(procs.length);
    let matches = 0;
    if (!tests.length) {
      for (const i of inScope) visible[i] = 1;
    } else {
      const scopeRoot = new Set(roots);
      for (const i of inScope) {
        if (!tests.every((t) => t(i))) continue;
        hits[i] = 1;
        ++matches;
        // Ancestors up to the scope's root, stopping at the first already shown.
        for (let a = i; a !== null && !visible[a]; a = scopeRoot.has(a) ? null : procs[a].parent) visible[a] = 1;
      }
    }
    return { roots, visible, hits, matches, filtered: tests.length > 0, errors };
  }

  // --- folding: identical visible siblings (same programs, same end) become one row; never
  // under a search or filter, whose matches and their ancestors all stay in sight ---
  function childItems(parent, kids, sel, st) {
    const groups = new Map();
    const order = [];
    for (const k of kids) {
      if (!sel.visible[k]) continue;
      const p = procs[k];
      const key = p.key + '\u0000' + p.class + '\u0000' + p.marks.join(',');
      let g = groups.get(key);
      if (!g) { g = []; groups.set(key, g); order.push(g); }
      g.push(k);
    }
    const items = [];
    for (const g of order) {
      const gid = parent + ':' + procs[g[0]].key + ':' + procs[g[0]].class + ':' + procs[g[0]].marks.join(',');
      if (g.length > 1 && !sel.filtered && st.expand !== 'all' && !expanded.has(gid)) items.push({ fold: g, gid });
      else for (const k of g) items.push({ proc: k });
    }
    return sorted(items, st.sort);
  }
  // Siblings by the figure `--sort` uses (the data's rank, largest first, unknown last; a
  // folded row by its members' total CPU or largest RSS or lifetime), ties by start.
  function sorted(items, key) {
    if (!key || key === 'start' || !procs.length || !(key in procs[0].rank)) return items;
    const value = (item) => {
      let v = null;
      for (const k of item.fold || [item.proc]) {
        const x = procs[k].rank[key];
        if (x !== null) v = v === null ? x : key === 'cpu' ? v + x : Math.max(v, x);
      }
      return v;
    };
    return items.map((item) => [value(item), item])
      .sort((a, b) => (a[0] === null) - (b[0] === null) || (b[0] ?? 0) - (a[0] ?? 0))
      .map(([, item]) => item);
  }
  function rowsOf(sel, st) {
    const rows = [];
    const stack = [];
    const push = (items, d) => { for (let n = items.length; n-- > 0;) { items[n].depth = d; stack.push(items[n]); } };
    push(sel.roots.filter((r) => sel.visible[r]).map((r) => ({ proc: r })), 0);
    while (stack.length) {
      const item = stack.pop();
      rows.push(item);
      if (item.proc !== undefined) push(childItems(item.proc, procs[item.proc].kids, sel, st), item.depth + 1);
    }
    return rows;
  }

  // --- drawing ---
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function bar(from, to, cls) {
    const b = el('span', 'bar ' + cls);
    b.style.left = (from / span * 100).toFixed(3) + '%';
    b.style.width = (Math.max(to - from, 0) / span * 100).toFixed(3) + '%';
    return b;
  }
  function procRow(item, sel) {
    const i = item.proc, p = procs[i];
    const row = el('div', 'row ' + p.class + (sel.hits[i] ? ' hit' : '') +
                   (p.marks.includes('runaway') ? ' runaway' : ''));
    row.dataset.id = i;
    const label = el('span', 'label');
    label.style.paddingLeft = (6 + 12 * Math.min(item.depth, 32)) + 'px';
    label.append(el('span', 'pid', p.pid), el('span', 'cmd', p.line));
    if (p.command) label.append(el('span', 'mark', '[COMMAND]'));
    for (const m of p.marks) label.append(el('span', 'mark m-' + m.replace(/ /g, '-'), '[' + m + ']'));
    label.title = p.line;
    const track = el('span', 'track');
    track.append(bar(p.start, p.end, p.ended ? '' : 'open'));
    row.append(label, el('span', 'end', [p.exit, p.life].filter(Boolean).join(', ')), track);
    return row;
  }
  function foldRow(item) {
    const members = item.fold.map((k) => procs[k]);
    const first = members[0];
    const row = el('div', 'row fold ' + first.class);
    row.dataset.fold = item.gid;
    row.dataset.count = members.length;
    const label = el('span', 'label');
    label.style.paddingLeft = (6 + 12 * Math.min(item.depth, 32)) + 'px';
    label.append(el('span', 'count', members.length + ' ×'), el('span', 'cmd', first.key));
    for (const m of first.marks) label.append(el('span', 'mark m-' + m.replace(/ /g, '-'), '[' + m + ']'));
    label.title = 'click to expand: ' + members.length + ' processes running ' + first.key;
    const totals = foldCost(members);
    const end = [first.exit].concat(Object.keys(totals).map((n) => costLabel(n) + ' ' + pick(UNITS, n)(totals[n])));
    const track = el('span', 'track');
    track.append(bar(members.reduce((t, p) => Math.min(t, p.start), Infinity),
                     members.reduce((t, p) => Math.max(t, p.end), 0), ''));
    row.append(label, el('span', 'end', end.join(', ')), track);
    return row;
  }
  function foldCost(members) {
    const out = {};
    for (const p of members)
      for (const [n, v] of Object.entries(p.cost)) {
        const f = pick(FOLDS, n);
        if (f && typeof v === 'number') out[n] = n in out ? f(out[n], v) : v;
      }
    return out;
  }

  function details(i) {
    const p = procs[i], box = $('details');
    box.replaceChildren();
    if (i === undefined || !p) { box.hidden = true; return; }
    box.hidden = false;
    const close = el('button', 'close', '×');
    close.type = 'button';
    close.addEventListener('click', () => { const st = readState(); st.sel = ''; writeState(st); details(); markSelected(); });
    box.append(close, el('h2', '', 'pid ' + p.pid + (p.command ? ' (COMMAND)' : '')));
    const dl = el('dl');
    const add = (term, value) => { if (value === '' || value === null || value === undefined) return; dl.append(el('dt', '', term)); const dd = el('dd'); if (value instanceof Node) dd.append(value); else dd.textContent = value; dl.append(dd); };
    add('command line', p.line);
    add('created', (p.via || 'unknown call') + ', parent ' + (p.parent === null ? 'unknown' : procs[p.parent].pid) +
        (p.ppid ? ' (ppid ' + p.ppid + ')' : ''));
    add('group, session', (p.pgid ?? '?') + ', ' + (p.sid ?? '?'));
    add('ended', p.exit);
    add('lifetime', p.life);
    add('timeline', '+' + duration(p.start) + ' → ' + (p.ended ? '+' : '≥ +') + duration(p.end));
    add('marks', p.marks.join(', '));
    if (p.escape) {
      add('escaped', p.escape.text);
      add('where it hung', ORIGINS[p.escape.origin] || p.escape.origin);
    }
    add('signals from progeny', p.signals.join(', '));
    p.execs.forEach((e, n) => {
      const list = el('ol');
      list.start = 0;
      for (const a of e.argv) list.append(el('li', '', a));
      if (e.cut) list.append(el('li', 'cut', '… (argv cut by the recorder)'));
      const wrap = el('div');
      wrap.append(el('div', 'path', e.path), list);
      add(p.execs.length > 1 ? 'exec ' + (n + 1) : 'exec', wrap);
    });
    for (const [n, v] of Object.entries(p.cost)) add(costLabel(n), typeof v === 'number' ? pick(UNITS, n)(v) : String(v));
    box.append(dl);
  }
  // origin_kind of the runaway report, in words.
  const ORIGINS = {
    command: 'COMMAND itself',
    adopted: 'orphaned, adopted by progeny (or its PID-namespace init)',
    child_of_command: 'child of COMMAND',
    descendant: 'a descendant of another process of the run',
  };
  function markSelected() {
    const sel = readState().sel;
    for (const r of document.querySelectorAll('.row.sel')) r.classList.remove('sel');
    if (sel) document.querySelector('.row[data-id="' + CSS.escape(sel) + '"]')?.classList.add('sel');
  }

  function summaryLine() {
    let n = 0, runaways = 0, failures = 0, escaped = 0;
    for (const p of procs) {
      if (p.class === 'progeny') continue;
      ++n;
      runaways += p.marks.includes('runaway');
      failures += p.class === 'fail' || p.class === 'signal';
      escaped += p.marks.includes('setsid') || p.marks.includes('setpgid');
    }
    let s = n + ' processes, ' + escaped + ' escaped their group, ' + runaways + ' runaways, ' +
            failures + ' failed; ' + data.events + ' events over ' + duration(data.span_ns);
    const lost = data.lost.shim + data.lost.bpf + data.lost.log;
    if (lost) s += '; records lost: shim ' + data.lost.shim + ', bpf ' + data.lost.bpf + ', log ' + data.lost.log;
    if (data.unreadable_lines) s += '; ' + data.unreadable_lines + ' unreadable log lines';
    $('summary').textContent = s;
    document.body.dataset.processes = procs.length;
  }
  function axis() {
    const ticks = $('ticks');
    for (let k = 0; k <= 4; ++k) {
      const t = el('span', '', '+' + duration(span * k / 4));
      t.style.left = (k * 25) + '%';
      ticks.append(t);
    }
    if (data.command_exit_ns !== null)
      $('cmdexit').style.setProperty('--at', (data.command_exit_ns / span).toFixed(5));
    else $('cmdexit').hidden = true;
  }

  function render() {
    const st = readState();
    syncControls(st);
    const sel = select(st);
    const rows = rowsOf(sel, st);
    const frag = document.createDocumentFragment();
    for (const item of rows) frag.append(item.fold ? foldRow(item) : procRow(item, sel));
    frag.append($('cmdexit'));
    $('rows').replaceChildren(frag);
    const status = $('status');
    status.className = sel.errors.length ? 'error' : '';
    const folded = rows.filter((r) => r.fold).length;
    status.textContent = sel.errors.length ? sel.errors.join('; ')
      : (sel.filtered ? sel.matches + (sel.matches === 1 ? ' match' : ' matches') + ' (with their ancestors); ' : '') +
        rows.length + ' rows' + (folded ? ', ' + folded + ' of them folded (click one to expand)' : '');
    document.body.dataset.rows = rows.length;
    document.body.dataset.matches = sel.filtered ? sel.matches : '';
    // One match: show it in full at once.
    if (!st.sel && sel.matches === 1) st.sel = String(sel.hits.indexOf(1));
    details(st.sel === '' ? undefined : Number(st.sel));
    if (st.sel) document.querySelector('.row[data-id="' + CSS.escape(st.sel) + '"]')?.classList.add('sel');
  }

  $('controls').addEventListener('input', () => { const st = controlsState(); st.sel = ''; writeState(st); render(); });
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  $('rows').addEventListener('click', (e) => {
    const row = e.target.closest('.row');
    if (!row) return;
    if (row.dataset.fold) { expanded.add(row.dataset.fold); render(); return; }
    const st = readState();
    st.sel = row.dataset.id;
    writeState(st);
    details(Number(row.dataset.id));
    markSelected();
  });
  window.addEventListener('hashchange', render);

  // The command line's filters and order, where the fragment does not say otherwise.
  {
    const f = new URLSearchParams(location.hash.slice(1));
    const missing = Object.entries(data.start).filter(([k]) => !f.has(k));
    for (const [k, v] of missing) f.set(k, v);
    if (missing.length) history.replaceState(null, '', '#' + f.toString());
  }
  summaryLine();
  axis();
  render();
  void document.body.offsetHeight;  // include the first layout in the measurement
  document.body.dataset.renderMs = (performance.now() - started).toFixed(1);
})();
)js";

}  // namespace progeny
