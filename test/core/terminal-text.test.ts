/**
 * terminalText: no character that a terminal acts on survives (generated: every C0 and C1
 * control, DEL, every format character, line separators, lone surrogates, inside random text),
 * each is written as a visible escape, and text without them comes back unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasTerminalControls, terminalText } from '../../src/core/terminal-text.ts';
import { random } from '../random.ts';
import { HOSTILE_SEQUENCES } from './hostile-text.ts';

/** What a terminal must never receive raw from data. */
function isDangerous(code: number): boolean {
  if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  if (code >= 0x202a && code <= 0x202e) return true;
  if (code >= 0x2066 && code <= 0x2069) return true;
  if (code === 0x2028 || code === 0x2029 || code === 0x200e || code === 0x200f || code === 0x061c || code === 0xfeff) return true;
  if (code >= 0x200b && code <= 0x200d) return true;
  if (code >= 0xe0000 && code <= 0xe007f) return true;
  return code >= 0xd800 && code <= 0xdfff;
}

function assertSafe(text: string, label: string): void {
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i) as number;
    // A well-formed pair is one character; a lone surrogate is dangerous on its own.
    if (code > 0xffff) {
      assert.ok(!isDangerous(code), `${label}: U+${code.toString(16)} left raw`);
      i++;
      continue;
    }
    assert.ok(!isDangerous(code), `${label}: U+${code.toString(16).padStart(4, '0')} left raw in ${JSON.stringify(text)}`);
  }
}

test('every hostile sequence is escaped visibly and nothing dangerous is left', () => {
  for (const [label, sequence] of Object.entries(HOSTILE_SEQUENCES)) {
    const shown = terminalText(`arn:aws:iam::111122223333:user/${sequence}`);
    assertSafe(shown, label);
    assert.ok(shown.startsWith('arn:aws:iam::111122223333:user/'), label);
    assert.ok(hasTerminalControls(sequence), label);
  }
  assert.equal(terminalText('\u001b]0;x\u0007'), '\\x1b]0;x\\x07');
  assert.equal(terminalText('a\nb\rc\td'), 'a\\nb\\rc\\td');
  assert.equal(terminalText('\u009b'), '\\x9b');
  assert.equal(terminalText('\u202e'), '\\u202e');
  assert.equal(terminalText('\u0000'), '\\x00');
  assert.equal(terminalText('\u{e0041}'), '\\u{e0041}');
});

test('every control and format character, in random text, is escaped; ordinary text is unchanged', () => {
  const rng = random(20261102);
  const ordinary = ['a', 'Z', '0', ' ', '/', ':', '\\', 'é', 'ß', '中', '😀', 'Ω', '-', '@', '*'];
  const dangerous: string[] = [];
  for (let code = 0; code <= 0x9f; code++) if (code <= 0x1f || code >= 0x7f) dangerous.push(String.fromCharCode(code));
  for (let code = 0x2000; code <= 0x206f; code++) if (isDangerous(code)) dangerous.push(String.fromCharCode(code));
  dangerous.push('\ufeff', '\u061c', '\u{e0001}', '\u{e007f}', '\udc00');
  for (let round = 0; round < 500; round++) {
    let text = '';
    for (let i = 0; i < 40; i++) text += rng() < 0.2 ? (dangerous[Math.floor(rng() * dangerous.length)] as string) : (ordinary[Math.floor(rng() * ordinary.length)] as string);
    assertSafe(terminalText(text), `round ${round}`);
  }
  for (const text of ['arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com', 'C:\\path\\x1b', '203.0.113.7', 'Ünïcödé 中文 😀', '']) {
    assert.equal(terminalText(text), text);
    assert.equal(hasTerminalControls(text), false);
  }
});
