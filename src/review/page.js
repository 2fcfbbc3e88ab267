// tdg review: the page's script. Every text from the server (model output above all)
// is inserted with textContent, never as HTML.
'use strict';

const TOKEN = document.body.dataset.token;
const PAGE = 50;
const FILTERS = ['doc', 'status', 'reason', 'gmin', 'gmax', 'judge', 'qtype', 'reviewed', 'q'];
const state = { offset: 0, total: 0, pairs: [], selected: -1, chunks: new Map(), editing: false };

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function say(text) { $('status').textContent = text; }

async function api(path, body) {
  const options = { headers: { 'X-Tdg-Token': TOKEN } };
  if (body !== undefined) {
    options.method = 'POST';
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function query() {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $('filter-' + name).value.trim();
    if (value !== '') params.set(name, value);
  }
  params.set('offset', state.offset);
  params.set('limit', PAGE);
  return params.toString();
}

function fillSelect(select, values) {
  const current = select.value;
  while (select.options.length > 1) select.remove(1);
  for (const value of values) select.add(new Option(value, value));
  select.value = current;
}

async function loadOverview() {
  const overview = await api('/api/overview');
  fillSelect($('filter-doc'), overview.documents.map((d) => d.stem));
  fillSelect($('filter-reason'), overview.reasons);
  fillSelect($('filter-qtype'), overview.question_types);
  const list = $('document-list');
  list.replaceChildren();
  const all = el('li', $('filter-doc').value === '' ? 'current' : '', 'All documents');
  all.append(el('span', 'counts', overview.pairs + ' pairs'));
  all.addEventListener('click', () => { $('filter-doc').value = ''; refilter(); });
  list.append(all);
  for (const doc of overview.documents) {
    const item = el('li', $('filter-doc').value === doc.stem ? 'current' : '', doc.stem);
    item.append(el('span', 'counts',
      `${doc.kept} kept · ${doc.dropped} dropped by the gate · ${doc.reviewed} reviewed`));
    item.addEventListener('click', () => { $('filter-doc').value = doc.stem; refilter(); });
    list.append(item);
  }
}

async function loadPairs(select) {
  const page = await api('/api/pairs?' + query());
  state.total = page.total;
  state.pairs = page.pairs;
  state.selected = -1;
  renderList();
  $('range').textContent = page.total === 0 ? 'no pairs match'
    : `${page.offset + 1}–${page.offset + page.pairs.length} of ${page.total}`;
  if (state.pairs.length > 0) await selectPair(select === 'last' ? state.pairs.length - 1 : 0);
  else renderDetail();
}

function badges(pair) {
  const box = el('div', 'badges');
  if (pair.decision) box.append(el('span', 'badge decision', pair.decision));
  if (pair.dropped) box.append(el('span', 'badge drop', 'dropped: ' + pair.dropped));
  if (pair.question_type) box.append(el('span', 'badge', pair.question_type));
  if (pair.grounding !== null && pair.grounding !== undefined)
    box.append(el('span', 'badge', 'grounding ' + pair.grounding.toFixed(2)));
  if (pair.judge) box.append(el('span', pair.judge.pass ? 'badge' : 'badge judge-fail',
    'judge ' + pair.judge.overall.toFixed(1) + (pair.judge.pass ? ' pass' : ' fail')));
  box.append(el('span', 'badge', pair.in_files ? 'in the Q&A file' : 'not in the Q&A file'));
  return box;
}

function shown(pair) {
  const text = pair.edited ? pair.edited : { question: pair.question, answer: pair.answer };
  const followUps = (pair.edited && pair.edited.follow_ups) || pair.follow_ups || [];
  return { question: text.question, answer: text.answer, follow_ups: followUps };
}

function renderList() {
  const list = $('pairs');
  list.replaceChildren();
  state.pairs.forEach((pair, i) => {
    const classes = ['pair'];
    if (pair.dropped) classes.push('dropped');
    if (pair.decision) classes.push(pair.decision);
    if (i === state.selected) classes.push('selected');
    const item = el('li', classes.join(' '));
    item.dataset.id = pair.id;
    const text = shown(pair);
    item.append(el('div', 'q', text.question), el('div', 'a', text.answer), badges(pair));
    item.addEventListener('click', () => selectPair(i));
    list.append(item);
  });
}

async function chunkOf(pair) {
  const key = pair.stem + '\u0000' + pair.position;
  if (!state.chunks.has(key)) {
    const params = new URLSearchParams({ stem: pair.stem, position: pair.position });
    state.chunks.set(key, await api('/api/chunk?' + params));
  }
  return state.chunks.get(key);
}

function renderDetail(chunk) {
  const pair = state.pairs[state.selected];
  const box = $('pair-detail');
  box.replaceChildren();
  $('chunk').replaceChildren();
  if (!pair) { box.append(el('p', 'hint', 'No pair selected.')); return; }
  const list = el('dl');
  const row = (name, value) => { list.append(el('dt', '', name), el('dd', '', value)); };
  const text = shown(pair);
  row('Question', text.question);
  row('Answer', text.answer);
  if (pair.reasoning) {
    // The trace, folded under its answer.
    const folded = el('details', 'reasoning');
    folded.append(el('summary', '', 'Reasoning'), el('pre', '', pair.reasoning));
    const dd = el('dd');
    dd.append(folded);
    list.append(el('dt', '', ''), dd);
  }
  if (pair.edited) { row('Model question', pair.question); row('Model answer', pair.answer); }
  text.follow_ups.forEach((turn, i) => {
    row(`Exchange ${i + 2}: user`, turn.question);
    row(`Exchange ${i + 2}: assistant`, turn.answer);
  });
  if (pair.cut_at) row('Conversation', `cut by the gate before exchange ${pair.cut_at}`);
  row('Document', `${pair.stem}, chunk ${pair.position}, pair ${pair.index + 1}`);
  row('Question type', pair.question_type || '–');
  row('Grounding', pair.grounding === null || pair.grounding === undefined ? '–' : pair.grounding.toFixed(3));
  row('Gate', pair.dropped ? 'drops it: ' + pair.dropped : 'keeps it');
  row('Judge', pair.judge
    ? `accuracy ${pair.judge.accuracy}, completeness ${pair.judge.completeness}, consistency ${pair.judge.consistency}: overall ${pair.judge.overall.toFixed(1)} (${pair.judge.pass ? 'pass' : 'fail'})`
    : 'not judged');
  row('Decision', pair.decision || 'none yet');
  row('Q&A file', pair.in_files ? 'holds it' : 'leaves it out');
  if (chunk && (chunk.page != null || (chunk.headings && chunk.headings.length))) {
    const place = [];
    if (chunk.page != null) place.push('page ' + chunk.page);
    if (chunk.headings && chunk.headings.length) place.push(chunk.headings.join(' › '));
    row('Place', place.join(' · '));
  }
  box.append(list);
  if (chunk) {
    const points = Array.from(chunk.text);
    const [start, end] = pair.evidence || [0, 0];
    const pre = $('chunk');
    if (end > start) {
      pre.append(document.createTextNode(points.slice(0, start).join('')));
      pre.append(el('mark', '', points.slice(start, end).join('')));
      pre.append(document.createTextNode(points.slice(end).join('')));
    } else {
      pre.textContent = chunk.text;
    }
  }
}

async function selectPair(i) {
  if (i < 0 || i >= state.pairs.length) return;
  closeEditor();
  state.selected = i;
  for (const [n, item] of Array.from($('pairs').children).entries())
    item.classList.toggle('selected', n === i);
  $('pairs').children[i].scrollIntoView({ block: 'nearest' });
  renderDetail();
  const pair = state.pairs[i];
  try {
    const chunk = await chunkOf(pair);
    if (state.pairs[state.selected] === pair) renderDetail(chunk);
  } catch (error) { say('Cannot read the chunk: ' + error.message); }
}

async function move(step) {
  const next = state.selected + step;
  if (next >= 0 && next < state.pairs.length) return selectPair(next);
  if (step > 0 && state.offset + PAGE < state.total) { state.offset += PAGE; return loadPairs('first'); }
  if (step < 0 && state.offset > 0) { state.offset = Math.max(0, state.offset - PAGE); return loadPairs('last'); }
}

async function decide(action, edit) {
  const pair = state.pairs[state.selected];
  if (!pair) { say('Select a pair first (j/k).'); return; }
  const body = { stem: pair.stem, position: pair.position, question: pair.question, action };
  if (edit) {
    body.new_question = edit.question;
    body.new_answer = edit.answer;
    if (edit.follow_ups.length) body.new_follow_ups = edit.follow_ups;
  }
  try {
    const result = await api('/api/decide', body);
    state.pairs[state.selected] = result.pair;
    const at = state.selected;
    renderList();
    state.selected = -1;
    await selectPair(at);
    const done = { accept: 'Accepted', reject: 'Rejected', edit: 'Edited', undo: 'Undone' }[action];
    say(`${done}: ${result.written ? 'the Q&A file is rewritten.' : result.note || 'recorded.'}`);
    loadOverview().catch(() => {});
  } catch (error) { say(`Cannot ${action}: ${error.message}`); }
}

function openEditor() {
  const pair = state.pairs[state.selected];
  if (!pair) { say('Select a pair first (j/k).'); return; }
  const text = shown(pair);
  $('edit-question').value = text.question;
  $('edit-answer').value = text.answer;
  // A conversation's follow-ups are edited with it, each exchange in two fields.
  const turns = $('edit-turns');
  turns.replaceChildren();
  text.follow_ups.forEach((turn, i) => {
    for (const [side, value] of [['question', turn.question], ['answer', turn.answer]]) {
      const label = el('label', '', `Exchange ${i + 2}: ${side === 'question' ? 'user' : 'assistant'} `);
      const area = el('textarea');
      area.rows = 2;
      area.dataset.turn = i;
      area.dataset.side = side;
      area.value = value;
      label.append(area);
      turns.append(label);
    }
  });
  $('editor').hidden = false;
  state.editing = true;
  $('edit-answer').focus();
}

function closeEditor() { $('editor').hidden = true; state.editing = false; }

function saveEdit() {
  const followUps = [];
  for (const area of $('edit-turns').querySelectorAll('textarea')) {
    const turn = followUps[area.dataset.turn] || (followUps[area.dataset.turn] = {});
    turn[area.dataset.side] = area.value;
  }
  const edit = { question: $('edit-question').value, answer: $('edit-answer').value, follow_ups: followUps };
  closeEditor();
  return decide('edit', edit);
}

function refilter() { state.offset = 0; loadPairs('first').then(loadOverview).catch((e) => say(e.message)); }

document.addEventListener('keydown', (event) => {
  const target = event.target;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement
    || target instanceof HTMLSelectElement;
  if (state.editing && event.key === 'Escape') { event.preventDefault(); closeEditor(); return; }
  if (state.editing && event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault(); saveEdit(); return;
  }
  if (typing) { if (event.key === 'Escape') target.blur(); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const actions = {
    j: () => move(1), k: () => move(-1), a: () => decide('accept'), r: () => decide('reject'),
    u: () => decide('undo'), e: () => openEditor(), '/': () => $('filter-q').focus(),
  };
  const action = actions[event.key];
  if (action) { event.preventDefault(); action(); }
});

for (const name of FILTERS) {
  const input = $('filter-' + name);
  input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input', refilter);
}
$('filters').addEventListener('submit', (event) => event.preventDefault());
$('editor').addEventListener('submit', (event) => { event.preventDefault(); saveEdit(); });
$('edit-cancel').addEventListener('click', closeEditor);
$('do-accept').addEventListener('click', () => decide('accept'));
$('do-reject').addEventListener('click', () => decide('reject'));
$('do-edit').addEventListener('click', openEditor);
$('do-undo').addEventListener('click', () => decide('undo'));
$('prev').addEventListener('click', () => move(-PAGE));
$('next').addEventListener('click', () => { if (state.offset + PAGE < state.total) { state.offset += PAGE; loadPairs('first'); } });

loadOverview().then(() => loadPairs('first')).then(() => say('Ready.')).catch((error) => say(error.message));
