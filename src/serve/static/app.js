/* trailhound serve: optional keyboard help (j/k move between alerts, o or Enter opens, x selects)
   and "select all". The pages work without it. No inline script: CSP script-src 'self'. */
/* global document */
'use strict';

function rows() {
  return Array.from(document.querySelectorAll('tbody tr[data-alert]'));
}

function move(step) {
  const list = rows();
  if (list.length === 0) return;
  const current = list.findIndex((row) => row.classList.contains('current'));
  const next = list[Math.max(0, Math.min(list.length - 1, current + step))];
  list.forEach((row) => row.classList.remove('current'));
  next.classList.add('current');
  const link = next.querySelector('a.open');
  if (link) link.focus();
}

document.addEventListener('keydown', (event) => {
  const target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')) return;
  if (event.key === 'j') { move(1); event.preventDefault(); }
  else if (event.key === 'k') { move(-1); event.preventDefault(); }
  else if (event.key === 'x') {
    const row = document.querySelector('tbody tr.current');
    const box = row && row.querySelector('input[type="checkbox"]');
    if (box) { box.checked = !box.checked; event.preventDefault(); }
  } else if (event.key === 'o') {
    const link = document.querySelector('tbody tr.current a.open');
    if (link) { link.click(); event.preventDefault(); }
  }
});

document.addEventListener('change', (event) => {
  const target = event.target;
  if (target && target.id === 'select-all') {
    document.querySelectorAll('input[name="ids"]').forEach((box) => { box.checked = target.checked; });
  }
});
