// The classroom simulator's page: draws each classroom from the server's live view (read from the emulated boards'
// pins) and sends the visitor's actions. Plain DOM, no build step: it is served as is by cli/simulator/server.ts,
// whose Content-Security-Policy allows this one script and nothing inline.

const SVG = 'http://www.w3.org/2000/svg';
/** @type {Map<string, ReturnType<typeof build>>} */
const rooms = new Map();
const main = document.getElementById('classrooms');
const connection = document.getElementById('connection');

/** @param {string} tag @param {Record<string, string>} attrs @param {Element} [parent] */
function el(tag, attrs = {}, parent) {
  const node = tag.startsWith('svg:')
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  parent?.append(node);
  return node;
}

/** @param {string} device @param {object} body @param {HTMLElement} problem */
async function act(device, body, problem) {
  problem.textContent = '';
  try {
    const res = await fetch(`/api/classrooms/${encodeURIComponent(device)}/actions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      const answer = await res.json().catch(() => ({}));
      problem.textContent = answer?.error?.message ?? `The simulator refused (${res.status}).`;
    }
  } catch {
    problem.textContent = 'The simulator is not answering.';
  }
}

/** @param {string} label @param {string} text */
function fact(list, label, testId) {
  const row = el('div', {}, list);
  el('dt', {}, row).textContent = label;
  return el('dd', { 'data-testid': testId }, row);
}

/** Builds one classroom's section; returns the nodes that change. */
function build(view) {
  const { device } = view;
  const section = el(
    'section',
    { class: 'room', 'aria-labelledby': `h-${device}`, 'data-device': device },
    main,
  );
  el('h2', { id: `h-${device}` }, section).textContent = `Classroom ${view.room}`;

  // The drawing repeats what the words say; screen readers get the words.
  const svg = el('svg:svg', { viewBox: '0 0 260 190', class: 'drawing', 'aria-hidden': 'true' }, section);
  el('svg:rect', { x: '10', y: '30', width: '130', height: '150', rx: '6', class: 'locker' }, svg);
  const slots = view.slots.map((_, i) => {
    const y = 45 + i * 33;
    el('svg:rect', { x: '22', y: String(y), width: '106', height: '24', rx: '3', class: 'slot' }, svg);
    return el(
      'svg:rect',
      { x: '50', y: String(y + 5), width: '50', height: '14', rx: '3', class: 'phone' },
      svg,
    );
  });
  const door = el('svg:polygon', { class: 'door' }, svg);
  const lock = el('svg:g', { class: 'lock' }, svg);
  el('svg:path', { d: 'M128 92 v-8 a8 8 0 0 1 16 0 v8', class: 'shackle' }, lock);
  el('svg:rect', { x: '124', y: '92', width: '24', height: '18', rx: '3', class: 'padlock' }, lock);
  // Signage light above the locker.
  el('svg:rect', { x: '160', y: '10', width: '90', height: '50', rx: '8', class: 'sign-box' }, svg);
  const sign = el('svg:circle', { cx: '205', cy: '35', r: '18', class: 'sign-light' }, svg);
  // Report button with its light.
  el('svg:circle', { cx: '205', cy: '110', r: '26', class: 'button-ring' }, svg);
  const buttonLight = el('svg:circle', { cx: '205', cy: '110', r: '18', class: 'button-light' }, svg);
  // Key switch.
  el('svg:circle', { cx: '205', cy: '165', r: '14', class: 'key-body' }, svg);
  const key = el('svg:rect', { x: '203', y: '153', width: '4', height: '24', rx: '2', class: 'key' }, svg);

  const facts = el('dl', { class: 'facts' }, section);
  const words = {
    door: fact(facts, 'Door', `door-${device}`),
    lock: fact(facts, 'Lock', `lock-${device}`),
    phones: fact(facts, 'Phones in slots', `phones-${device}`),
    key: fact(facts, 'Key switch', `key-${device}`),
    signage: fact(facts, 'Signage light', `signage-${device}`),
    light: fact(facts, 'Report button light', `button-light-${device}`),
  };
  // A change of the report light is announced: it is how the pupil learns the report arrived.
  words.light.setAttribute('aria-live', 'polite');

  const controls = el(
    'div',
    { class: 'controls', role: 'group', 'aria-label': `Controls for ${view.room}` },
    section,
  );
  const problem = el('p', { class: 'problem', role: 'alert' });
  const button = (text, onClick) => {
    const b = el('button', { type: 'button' }, controls);
    b.textContent = text;
    b.addEventListener('click', () => onClick(b));
    return b;
  };
  const state = { view };
  button('Press the report button', () => act(device, { action: 'press', hold: 'short' }, problem));
  button('Hold the report button (urgent)', () => act(device, { action: 'press', hold: 'long' }, problem));
  const doorButton = button('', () => act(device, { action: 'door', open: !state.view.doorOpen }, problem));
  const keyButton = button('', () => act(device, { action: 'key', on: !state.view.keyOn }, problem));
  const slotButtons = view.slots.map((_, i) =>
    button('', () => act(device, { action: 'slot', slot: i, phone: !state.view.slots[i] }, problem)),
  );
  controls.after(problem);
  return {
    state,
    slots,
    door,
    lock,
    sign,
    buttonLight,
    key,
    words,
    doorButton,
    keyButton,
    slotButtons,
    section,
  };
}

function render(view) {
  let room = rooms.get(view.device);
  if (!room) {
    room = build(view);
    rooms.set(view.device, room);
  }
  room.state.view = view;
  const phones = view.slots.filter(Boolean).length;
  room.slots.forEach((phone, i) => {
    phone.setAttribute('visibility', view.slots[i] ? 'visible' : 'hidden');
  });
  room.door.setAttribute(
    'points',
    view.doorOpen ? '10,30 -10,45 -10,165 10,180' : '10,30 140,30 140,180 10,180',
  );
  room.door.classList.toggle('open', view.doorOpen);
  room.lock.classList.toggle('unlocked', !view.locked);
  room.sign.setAttribute('fill', view.signage.now);
  const glow = Math.max(0.08, view.button.level);
  room.buttonLight.setAttribute('fill', `rgba(255, 214, 64, ${glow})`);
  room.key.setAttribute('transform', view.keyOn ? 'rotate(90 205 165)' : '');

  room.words.door.textContent = view.doorOpen ? 'open' : 'shut';
  room.words.lock.textContent = view.locked ? 'locked' : 'unlocked';
  room.words.phones.textContent = `${phones} of ${view.slots.length}`;
  room.words.key.textContent = view.keyOn ? 'turned on' : 'off';
  room.words.signage.textContent = view.signage.words;
  room.words.light.textContent = view.button.words;
  room.doorButton.textContent = view.doorOpen ? 'Close the door' : 'Open the door';
  room.keyButton.textContent = view.keyOn ? 'Turn the key off' : 'Turn the key on';
  room.slotButtons.forEach((b, i) => {
    b.textContent = view.slots[i] ? `Take the phone from slot ${i + 1}` : `Put a phone in slot ${i + 1}`;
  });
}

const events = new EventSource('/api/events');
events.addEventListener('open', () => {
  connection.textContent = 'Live: showing what each board shows now.';
});
events.addEventListener('error', () => {
  connection.textContent = 'Connection to the simulator lost; retrying…';
});
events.addEventListener('classroom', (event) => render(JSON.parse(event.data)));
