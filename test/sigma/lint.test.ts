import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suspectRuleWarnings } from '../../src/sigma/lint.ts';

const rule = (detection: string): string => `title: t
id: 0a1b2c3d-0000-4000-8000-000000000009
logsource: {product: aws, service: cloudtrail}
detection:
${detection}
`;

const CASES: { name: string; text: string; at: string[] }[] = [
  { name: 'base64offset alone compares whole values: warned at the key', text: rule("  sel:\n    userAgent|base64offset: curl\n  condition: sel"), at: ['f.yml:6:5'] },
  { name: 'base64offset|contains is what rules mean', text: rule("  sel:\n    userAgent|base64offset|contains: curl\n  condition: sel"), at: [] },
  { name: 'startswith/endswith are deliberate too', text: rule("  sel:\n    a|base64offset|startswith: x\n    b|base64offset|endswith: y\n  condition: sel"), at: [] },
  { name: 'inside a list of maps, with utf16 first', text: rule("  sel:\n    - a: 1\n    - b|utf16le|base64offset: x\n  condition: sel"), at: ['f.yml:7:7'] },
  { name: 'a filter section is checked too', text: "title: f\nid: 0a1b2c3d-0000-4000-8000-00000000000a\nlogsource: {product: aws}\nfilter:\n  rules: any\n  sel:\n    c|BASE64OFFSET: x\n  condition: not sel\n", at: ['f.yml:7:5'] },
  { name: 'no base64offset, no warning', text: rule("  sel:\n    userAgent|base64: curl\n  condition: sel"), at: [] },
];

for (const { name, text, at } of CASES) {
  test(`suspectRuleWarnings: ${name}`, () => {
    const warnings = suspectRuleWarnings(text, 'f.yml');
    assert.deepEqual(warnings.map((w) => w.location), at);
    for (const warning of warnings) {
      assert.equal(warning.code, 'TH_RULE_SUSPECT');
      assert.match(warning.message, /\|base64offset\|contains'$/i);
    }
  });
}
