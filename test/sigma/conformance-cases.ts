/**
 * The conformance table, written from the Sigma specification (sigma-rules-specification.md and
 * sigma-appendix-modifiers.md): each case is a detection block, records that must match and
 * records that must not. conformance.test.ts runs it; required-values.test.ts uses it for the
 * soundness property of required values.
 */
import { Buffer } from 'node:buffer';
import type { LogRecord } from '../../src/core/envelope.ts';

export interface ConformanceCase {
  name: string;
  /** The detection section (YAML, written with String.raw so backslashes are as in a rule file). */
  detection: string;
  match: LogRecord[];
  noMatch: LogRecord[];
  vars?: Record<string, string[]>;
}

const r = String.raw;

export const SECTIONS: Record<string, ConformanceCase[]> = {
  'search identifiers': [
    {
      name: 'a map is the AND of its fields',
      detection: r`
        sel:
          eventSource: iam.amazonaws.com
          eventName: CreateUser
        condition: sel`,
      match: [{ eventSource: 'iam.amazonaws.com', eventName: 'CreateUser' }],
      noMatch: [{ eventSource: 'iam.amazonaws.com' }, { eventSource: 'iam.amazonaws.com', eventName: 'DeleteUser' }, { eventName: 'CreateUser' }],
    },
    {
      name: 'a list of values is an OR',
      detection: r`
        sel:
          EventID:
            - 517
            - 1102
        condition: sel`,
      match: [{ EventID: 517 }, { EventID: '1102' }],
      noMatch: [{ EventID: 518 }, { EventID: '5170' }, {}],
    },
    {
      name: 'a list of maps is an OR of the maps',
      detection: r`
        sel:
          - Image|endswith: '\example.exe'
          - Description|contains: 'Test executable'
        condition: sel`,
      match: [{ Image: 'C:\\x\\EXAMPLE.exe' }, { Description: 'a test executable here' }],
      noMatch: [{ Image: 'C:\\x\\example.exe.bak' }, { Description: 'test exe' }, { Image: 'x', Description: 'y' }],
    },
    {
      name: 'keywords search every string of the record, nested, case-insensitively, anywhere in a value',
      detection: r`
        keywords:
          - 'EVILSERVICE'
          - 'svchost.exe -n evil'
        condition: keywords`,
      match: [{ a: { b: ['x', 'started evilservice now'] } }, { msg: 'C:\\svchost.exe -n EVIL' }],
      noMatch: [{ a: 'evil service' }, { evilservice: 'key names are not searched' }],
    },
    {
      name: "keywords with '|all' need every value",
      detection: r`
        keywords_cmdlet:
          '|all':
            - 'OabVirtualDirectory'
            - ' -ExternalUrl '
        condition: keywords_cmdlet`,
      match: [{ cmd: 'Set-OabVirtualDirectory -ExternalUrl http://x' }, { a: 'oabvirtualdirectory', b: ['x -externalurl y'] }],
      noMatch: [{ cmd: 'Set-OabVirtualDirectory' }, { cmd: ' -ExternalUrl ' }],
    },
    {
      name: 'a keyword given as a single value',
      detection: r`
        keywords: 'mimikatz'
        condition: keywords`,
      match: [{ a: 'run Mimikatz.exe' }],
      noMatch: [{ a: 'mimi katz' }],
    },
    {
      name: 'null matches a missing or null field',
      detection: r`
        sel:
          EventID: 4738
        filter:
          PasswordLastSet: null
        condition: sel and not filter`,
      match: [{ EventID: 4738, PasswordLastSet: '2024-01-01' }, { EventID: 4738, PasswordLastSet: '' }],
      noMatch: [{ EventID: 4738 }, { EventID: 4738, PasswordLastSet: null }],
    },
    {
      name: "the empty value '' matches only an empty string",
      detection: r`
        sel:
          FieldB: ''
        condition: sel`,
      match: [{ FieldB: '' }],
      noMatch: [{}, { FieldB: null }, { FieldB: ' ' }, { FieldB: 'x' }],
    },
    {
      name: "the specification's null/empty example: 1 of selection_empty*",
      detection: r`
        selection_main:
          FieldA: 'something'
        selection_empty1:
          FieldB: ''
        selection_empty2:
          FieldB: null
        condition: selection_main and 1 of selection_empty*`,
      match: [{ FieldA: 'something', FieldB: '' }, { FieldA: 'something' }],
      noMatch: [{ FieldA: 'something', FieldB: 'x' }, { FieldB: '' }],
    },
    {
      name: 'numbers compare by string form, both ways',
      detection: r`
        sel:
          a: 5
          b: '7'
        condition: sel`,
      match: [{ a: 5, b: 7 }, { a: '5', b: '7' }],
      noMatch: [{ a: 6, b: 7 }, { a: '05', b: 7 }, { a: 5, b: 7.5 }, { a: 5 }],
    },
    {
      name: 'an integer beyond 2^53 keeps all its digits',
      detection: r`
        sel:
          accountId: 123456789012345678
        condition: sel`,
      match: [{ accountId: '123456789012345678' }],
      noMatch: [{ accountId: '123456789012345680' }],
    },
    {
      name: 'booleans compare by string form, both ways, case-insensitively',
      detection: r`
        sel:
          requestParameters.eventSelectors.includeManagementEvents: false
          enabled: 'true'
        condition: sel`,
      match: [
        { requestParameters: { eventSelectors: [{ includeManagementEvents: true }, { includeManagementEvents: false }] }, enabled: true },
        { requestParameters: { eventSelectors: { includeManagementEvents: 'FALSE' } }, enabled: 'True' },
      ],
      noMatch: [{ requestParameters: { eventSelectors: [{ includeManagementEvents: true }] }, enabled: true }, { requestParameters: { eventSelectors: { includeManagementEvents: 0 } }, enabled: true }],
    },
  ],
  'strings, wildcards and escapes': [
    {
      name: 'plain values are case-insensitive and whole-value',
      detection: r`
        sel:
          eventName: CreateUser
        condition: sel`,
      match: [{ eventName: 'CreateUser' }, { eventName: 'createuser' }, { eventName: 'CREATEUSER' }],
      noMatch: [{ eventName: 'CreateUsers' }, { eventName: 'XCreateUser' }, { eventName: 'Create User' }],
    },
    {
      name: 'non-ASCII values fold case too',
      detection: r`
        sel:
          name: 'ÉTÉ'
        condition: sel`,
      match: [{ name: 'été' }, { name: 'Été' }],
      noMatch: [{ name: 'ete' }],
    },
    {
      name: '? is exactly one character',
      detection: r`
        sel:
          Image: 'prog?.exe'
        condition: sel`,
      match: [{ Image: 'progA.exe' }, { Image: 'PROG1.EXE' }],
      noMatch: [{ Image: 'prog.exe' }, { Image: 'progAB.exe' }],
    },
    {
      name: '* is any run of characters, including none',
      detection: r`
        sel:
          Image: 'antivirus_V*.exe'
        condition: sel`,
      match: [{ Image: 'antivirus_V1.exe' }, { Image: 'antivirus_V21.2.1.exe' }, { Image: 'antivirus_V.exe' }],
      noMatch: [{ Image: 'antivirus_V1.dll' }, { Image: 'xantivirus_V1.exe' }],
    },
    {
      name: 'a leading or trailing * gives prefix, suffix and substring matches',
      detection: r`
        a:
          f: 'adm*'
        b:
          g: '*\cmd.exe'
        c:
          h: '*evil*'
        condition: a and b and c`,
      match: [{ f: 'ADMIN', g: 'C:\\Windows\\CMD.EXE', h: 'so Evil' }],
      noMatch: [{ f: 'xadm', g: 'C:\\cmd.exe', h: 'evil' }, { f: 'adm', g: 'cmd.exe', h: 'evil' }],
    },
    {
      name: '\\* and \\? are literal characters',
      detection: r`
        a:
          f: 'a\*b'
        b:
          g: 'what\?'
        condition: a and b`,
      match: [{ f: 'a*b', g: 'what?' }, { f: 'A*B', g: 'WHAT?' }],
      noMatch: [{ f: 'axb', g: 'what?' }, { f: 'a*b', g: 'whatx' }],
    },
    {
      name: 'a single backslash not before a wildcard stays literal',
      detection: r`
        sel:
          Image: 'C:\Windows\System32\whoami.exe'
        condition: sel`,
      match: [{ Image: 'c:\\windows\\system32\\whoami.exe' }],
      noMatch: [{ Image: 'C:WindowsSystem32whoami.exe' }, { Image: 'C:\\\\Windows\\\\System32\\\\whoami.exe' }],
    },
    {
      name: '\\\\ is one backslash; \\\\* is a backslash then a wildcard',
      detection: r`
        a:
          f: 'C:\\Windows'
        b:
          g: 'dir\\*'
        condition: a and b`,
      match: [{ f: 'C:\\Windows', g: 'dir\\sub' }, { f: 'c:\\windows', g: 'dir\\' }],
      noMatch: [{ f: 'C:\\\\Windows', g: 'dir\\sub' }, { f: 'C:\\Windows', g: 'dirsub' }],
    },
    {
      name: '\\\\\\* is a backslash and a literal star; \\\\\\\\ is two backslashes',
      detection: r`
        a:
          f: 'x\\\*'
        b:
          g: 'a\\\\b'
        condition: a and b`,
      match: [{ f: 'x\\*', g: 'a\\\\b' }],
      noMatch: [{ f: 'x\\y', g: 'a\\\\b' }, { f: 'x\\*', g: 'a\\b' }],
    },
    {
      name: 'a trailing backslash is literal',
      detection: r`
        sel:
          f: 'dir\'
        condition: sel`,
      match: [{ f: 'DIR\\' }],
      noMatch: [{ f: 'dir' }],
    },
    {
      name: '%name% without expand is a literal value',
      detection: r`
        sel:
          f: '%name%'
        condition: sel`,
      match: [{ f: '%NAME%' }],
      noMatch: [{ f: 'name' }],
    },
  ],
  'field paths': [
    {
      name: 'dotted paths walk nested objects',
      detection: r`
        sel:
          requestParameters.policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess'
        condition: sel`,
      match: [{ requestParameters: { policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }],
      noMatch: [{ requestParameters: { policyArn: 'arn:aws:iam::aws:policy/ReadOnly' } }, { requestParameters: null }, { requestParameters: 'x' }],
    },
    {
      name: 'a key that contains dots is found literally, and wins over the nested path',
      detection: r`
        sel:
          a.b: x
        condition: sel`,
      match: [{ 'a.b': 'x' }, { a: { b: 'x' } }],
      noMatch: [{ 'a.b': 'y', a: { b: 'x' } }],
    },
    {
      name: 'mixed literal and nested segments',
      detection: r`
        sel:
          a.b.c: x
        condition: sel`,
      match: [{ a: { 'b.c': 'x' } }, { 'a.b': { c: 'x' } }, { a: { b: { c: 'x' } } }],
      noMatch: [{ a: { b: { c: 'y' } } }],
    },
    {
      name: 'a path through an array matches when any element matches',
      detection: r`
        sel:
          resources.ARN: 'arn:aws:s3:::secret'
        condition: sel`,
      match: [{ resources: [{ ARN: 'arn:aws:s3:::other' }, { ARN: 'arn:aws:s3:::secret' }] }, { resources: [[{ ARN: 'arn:aws:s3:::secret' }]] }],
      noMatch: [{ resources: [{ ARN: 'arn:aws:s3:::other' }] }, { resources: [] }],
    },
    {
      name: 'a final array value matches when any element matches',
      detection: r`
        sel:
          tags: b
        condition: sel`,
      match: [{ tags: ['a', 'B'] }, { tags: [['b']] }],
      noMatch: [{ tags: ['a', 'bb'] }, { tags: [] }],
    },
    {
      name: 'null through arrays: an element without the field, or an empty array, counts as missing',
      detection: r`
        sel:
          items.name: null
        condition: sel`,
      match: [{ items: [{ name: 'a' }, {}] }, { items: [] }, { items: [{ name: null }] }, {}],
      noMatch: [{ items: [{ name: 'a' }, { name: 'b' }] }],
    },
    {
      name: 'a field holding an object matches when a value inside it matches (SigmaHQ s3browser rule)',
      detection: r`
        sel:
          requestParameters|contains|all:
            - '"s3:GetObject"'
            - '"Allow"'
        condition: sel`,
      match: [{ requestParameters: { userName: 'u', policyDocument: '{"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}' } }],
      noMatch: [{ requestParameters: { policyDocument: '{"Statement":[{"Effect":"Deny","Action":"s3:GetObject"}]}' } }],
    },
    {
      name: 'Object.prototype names are not fields',
      detection: r`
        sel:
          constructor|exists: true
        condition: sel`,
      match: [{ constructor: 'x' }],
      noMatch: [{}, { a: 1 }],
    },
  ],
  'generic modifiers': [
    {
      name: 'contains',
      detection: r`
        sel:
          userAgent|contains: 'S3 Browser'
        condition: sel`,
      match: [{ userAgent: 'S3 Browser 9.5.5' }, { userAgent: 'x s3 browser' }],
      noMatch: [{ userAgent: 'S3Browser' }, {}],
    },
    {
      name: 'contains keeps wildcards inside the value',
      detection: r`
        sel:
          cmd|contains: 'net*user'
        condition: sel`,
      match: [{ cmd: 'c:\\> NET.exe USER x' }],
      noMatch: [{ cmd: 'user net' }],
    },
    {
      name: 'startswith',
      detection: r`
        sel:
          requestParameters.policyArn|startswith: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine'
        condition: sel`,
      match: [{ requestParameters: { policyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3' } }],
      noMatch: [{ requestParameters: { policyArn: 'x arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine' } }],
    },
    {
      name: 'endswith',
      detection: r`
        sel:
          Image|endswith: '\cmd.exe'
        condition: sel`,
      match: [{ Image: 'C:\\Windows\\System32\\CMD.exe' }],
      noMatch: [{ Image: 'C:\\cmd.exe.txt' }, { Image: 'xcmd.exe' }],
    },
    {
      name: 'all ANDs a value list',
      detection: r`
        sel:
          CommandLine|contains|all:
            - ' -c '
            - 'bash'
        condition: sel`,
      match: [{ CommandLine: 'sh -c BASH' }],
      noMatch: [{ CommandLine: 'sh -c ls' }, { CommandLine: 'bash' }],
    },
    {
      name: 'exists: true (a null value still exists)',
      detection: r`
        sel:
          errorCode|exists: true
        condition: sel`,
      match: [{ errorCode: 'AccessDenied' }, { errorCode: null }, { errorCode: '' }],
      noMatch: [{}, { errorcode: 'x' }],
    },
    {
      name: 'exists: false',
      detection: r`
        sel:
          eventName: CreateKeyPair
          errorCode|exists: false
        condition: sel`,
      match: [{ eventName: 'CreateKeyPair' }],
      noMatch: [{ eventName: 'CreateKeyPair', errorCode: 'Client.UnauthorizedOperation' }, { eventName: 'CreateKeyPair', errorCode: null }],
    },
    {
      name: 'cased makes matching case-sensitive',
      detection: r`
        a:
          eventName|cased: CreateUser
        b:
          ua|contains|cased: Boto
        condition: a and b`,
      match: [{ eventName: 'CreateUser', ua: 'x Boto3' }],
      noMatch: [{ eventName: 'createuser', ua: 'x Boto3' }, { eventName: 'CreateUser', ua: 'boto3' }],
    },
    {
      name: 'neq: the field differs from every listed value (a missing field differs)',
      detection: r`
        sel:
          eventName: ConsoleLogin
          userIdentity.type|neq:
            - Root
            - AssumedRole
        condition: sel`,
      match: [{ eventName: 'ConsoleLogin', userIdentity: { type: 'IAMUser' } }, { eventName: 'ConsoleLogin' }],
      noMatch: [{ eventName: 'ConsoleLogin', userIdentity: { type: 'root' } }, { eventName: 'ConsoleLogin', userIdentity: { type: 'AssumedRole' } }],
    },
    {
      name: 'neq on a number',
      detection: r`
        sel:
          status|neq: 200
        condition: sel`,
      match: [{ status: 404 }, { status: '500' }],
      noMatch: [{ status: 200 }, { status: '200' }],
    },
  ],
  'regular expressions': [
    {
      name: 're is case-sensitive and searches the value',
      detection: r`
        sel:
          userIdentity.arn|re: '.+:assumed-role/aws:.+'
        condition: sel`,
      match: [{ userIdentity: { arn: 'arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1' } }],
      noMatch: [{ userIdentity: { arn: 'arn:aws:sts::1:ASSUMED-ROLE/aws:x' } }, { userIdentity: { arn: 'arn:aws:iam::1:user/x' } }],
    },
    {
      name: 're|i ignores case',
      detection: r`
        sel:
          f|re|i: '^create[a-z]+$'
        condition: sel`,
      match: [{ f: 'CreateUser' }],
      noMatch: [{ f: 'DeleteUser' }, { f: 'Create1' }],
    },
    {
      name: 're|m makes ^ and $ match at line ends',
      detection: r`
        sel:
          f|re|m: '^second$'
        condition: sel`,
      match: [{ f: 'first\nsecond\nthird' }],
      noMatch: [{ f: 'first second' }],
    },
    {
      name: 're|s makes . match a newline',
      detection: r`
        sel:
          f|re|s: 'a.b'
        condition: sel`,
      match: [{ f: 'a\nb' }, { f: 'axb' }],
      noMatch: [{ f: 'a\n\nb' }],
    },
    {
      name: 'without s, . does not match a newline',
      detection: r`
        sel:
          f|re: 'a.b'
        condition: sel`,
      match: [{ f: 'axb' }],
      noMatch: [{ f: 'a\nb' }],
    },
    {
      name: 're over a list is an OR, and reads numbers as text',
      detection: r`
        sel:
          f|re:
            - '^4[0-9]{2}$'
            - '^x'
        condition: sel`,
      match: [{ f: 404 }, { f: 'xyz' }],
      noMatch: [{ f: 200 }, { f: 'X' }],
    },
  ],
  encodings: [
    {
      name: 'base64 encodes the value',
      detection: r`
        sel:
          f|base64: 'cmd'
        condition: sel`,
      match: [{ f: 'Y21k' }],
      noMatch: [{ f: 'cmd' }, { f: 'xY21k' }],
    },
    {
      name: 'base64 then contains',
      detection: r`
        sel:
          f|base64|contains: 'http://'
        condition: sel`,
      match: [{ f: 'xxaHR0cDovLw==yy' }],
      noMatch: [{ f: 'http://' }],
    },
    {
      name: 'base64offset|contains finds the value at any byte offset (pySigma /bin/bash example)',
      detection: r`
        sel:
          f|base64offset|contains: '/bin/bash'
        condition: sel`,
      match: [
        { f: Buffer.from('/bin/bash -c id').toString('base64') },
        { f: Buffer.from('x /bin/bash').toString('base64') },
        { f: Buffer.from('xy/bin/bash').toString('base64') },
        { f: 'L2Jpbi9iYXNo' },
        { f: '9iaW4vYmFza' },
        { f: 'vYmluL2Jhc2' },
      ],
      noMatch: [{ f: Buffer.from('/bin/sh').toString('base64') }, { f: '/bin/bash' }],
    },
    {
      name: 'utf16le (wide) then base64offset: PowerShell -EncodedCommand payloads',
      detection: r`
        sel:
          CommandLine|wide|base64offset|contains: 'Invoke-Mimikatz'
        condition: sel`,
      match: [0, 1, 2, 3].map((pad) => ({ CommandLine: `powershell -enc ${Buffer.from(`${'x'.repeat(pad)}Invoke-Mimikatz -x`, 'utf16le').toString('base64')}` })),
      noMatch: [{ CommandLine: Buffer.from('Invoke-Mimikatz').toString('base64') }, { CommandLine: Buffer.from('Invoke-Other', 'utf16le').toString('base64') }],
    },
    {
      name: 'utf16le alone gives NUL-interleaved text',
      detection: r`
        sel:
          f|utf16le|contains: 'cmd'
        condition: sel`,
      match: [{ f: 'x c\u0000m\u0000d\u0000 y' }],
      noMatch: [{ f: 'cmd' }],
    },
    {
      name: 'utf16be then base64',
      detection: r`
        sel:
          f|utf16be|base64: 'cmd'
        condition: sel`,
      match: [{ f: Buffer.from([0, 0x63, 0, 0x6d, 0, 0x64]).toString('base64') }],
      noMatch: [{ f: Buffer.from('cmd', 'utf16le').toString('base64') }],
    },
    {
      name: 'utf16 prepends the FF FE byte order mark',
      detection: r`
        sel:
          f|utf16|base64: 'cmd'
        condition: sel`,
      match: [{ f: Buffer.from([0xff, 0xfe, 0x63, 0, 0x6d, 0, 0x64, 0]).toString('base64') }],
      noMatch: [{ f: Buffer.from('cmd', 'utf16le').toString('base64') }],
    },
    {
      name: 'windash: every - / – — ― is interchangeable',
      detection: r`
        sel:
          CommandLine|windash|contains:
            - ' -exec bypass'
            - ' /enc '
        condition: sel`,
      match: [
        { CommandLine: 'powershell -exec bypass' },
        { CommandLine: 'powershell /exec bypass' },
        { CommandLine: 'powershell \u2013exec bypass' },
        { CommandLine: 'powershell \u2014exec bypass' },
        { CommandLine: 'powershell \u2015exec bypass' },
        { CommandLine: 'powershell -enc abc' },
      ],
      noMatch: [{ CommandLine: 'powershell +exec bypass' }, { CommandLine: 'powershell exec bypass' }],
    },
    {
      name: 'windash then base64 enumerates the permutations',
      detection: r`
        sel:
          f|windash|base64: '-a'
        condition: sel`,
      match: ['-a', '/a', '\u2013a', '\u2014a', '\u2015a'].map((v) => ({ f: Buffer.from(v).toString('base64') })),
      noMatch: [{ f: Buffer.from('+a').toString('base64') }],
    },
  ],
  'numeric modifiers': [
    {
      name: 'gt',
      detection: r`
        sel:
          bytes|gt: 1000
        condition: sel`,
      match: [{ bytes: 1001 }, { bytes: '5000' }, { bytes: 1000.5 }, { bytes: [1, 2000] }],
      noMatch: [{ bytes: 1000 }, { bytes: 'many' }, { bytes: true }, { bytes: '' }, {}],
    },
    {
      name: 'gte',
      detection: r`
        sel:
          bytes|gte: 1000
        condition: sel`,
      match: [{ bytes: 1000 }, { bytes: '1000.0' }],
      noMatch: [{ bytes: 999 }],
    },
    {
      name: 'lt',
      detection: r`
        sel:
          port|lt: 1024
        condition: sel`,
      match: [{ port: 22 }, { port: '-1' }],
      noMatch: [{ port: 1024 }, { port: 'x' }],
    },
    {
      name: 'lte with a decimal value',
      detection: r`
        sel:
          score|lte: 2.5
        condition: sel`,
      match: [{ score: 2.5 }, { score: 1 }],
      noMatch: [{ score: 2.51 }],
    },
    {
      name: 'lt and gt in one selection make a range',
      detection: r`
        sel:
          port|gt: 1023
          port|lt: 49152
        condition: sel`,
      match: [{ port: 8080 }],
      noMatch: [{ port: 80 }, { port: 50000 }],
    },
  ],
  'time modifiers': [
    {
      name: 'hour, minute, day, month, year read the date as written',
      detection: r`
        h:
          eventTime|hour: 23
        m:
          eventTime|minute: 30
        d:
          eventTime|day: 10
        mo:
          eventTime|month: 3
        y:
          eventTime|year: 2024
        condition: all of them`,
      match: [{ eventTime: '2024-03-10T23:30:05Z' }, { eventTime: '2024-03-10T23:30:05.123+05:00' }, { eventTime: '2024-03-10 23:30' }],
      noMatch: [{ eventTime: '2024-03-10T22:30:05Z' }, { eventTime: '2024-03-11T23:30:05Z' }, { eventTime: 'yesterday' }, { eventTime: 1710113405000 }],
    },
    {
      name: 'week is the ISO 8601 week',
      detection: r`
        sel:
          eventTime|week: 1
        condition: sel`,
      match: [{ eventTime: '2024-01-01T00:00:00Z' }, { eventTime: '2021-01-04' }, { eventTime: '2019-12-30T12:00:00Z' }],
      noMatch: [{ eventTime: '2021-01-01T00:00:00Z' }, { eventTime: '2024-01-08' }],
    },
    {
      name: 'time modifiers combine with comparisons (outside office hours)',
      detection: r`
        early:
          eventTime|hour|lt: 7
        late:
          eventTime|hour|gte: 19
        condition: early or late`,
      match: [{ eventTime: '2024-03-10T06:59:00Z' }, { eventTime: '2024-03-10T19:00:00Z' }],
      noMatch: [{ eventTime: '2024-03-10T07:00:00Z' }, { eventTime: '2024-03-10T18:59:59Z' }, { eventTime: '2024-03-10' }],
    },
    {
      name: 'a time modifier with neq',
      detection: r`
        sel:
          eventTime|year|neq: 2024
        condition: sel`,
      match: [{ eventTime: '2023-12-31T23:59:59Z' }],
      noMatch: [{ eventTime: '2024-01-01T00:00:00Z' }],
    },
  ],
  'IP modifiers': [
    {
      name: 'cidr IPv4',
      detection: r`
        sel:
          sourceIPAddress|cidr:
            - 10.0.0.0/8
            - 192.168.1.7
        condition: sel`,
      match: [{ sourceIPAddress: '10.1.2.3' }, { sourceIPAddress: '10.255.255.255' }, { sourceIPAddress: '192.168.1.7' }],
      noMatch: [{ sourceIPAddress: '11.0.0.1' }, { sourceIPAddress: '192.168.1.8' }, { sourceIPAddress: 'AWS Internal' }, { sourceIPAddress: '10.1.2' }, { sourceIPAddress: '::ffff:10.1.2.3' }],
    },
    {
      name: 'cidr IPv6',
      detection: r`
        sel:
          sourceIPAddress|cidr: '2001:db8::/32'
        condition: sel`,
      match: [{ sourceIPAddress: '2001:db8::1' }, { sourceIPAddress: '2001:0DB8:ffff:0:0:0:0:1' }, { sourceIPAddress: '2001:db8:1:2:3:4:1.2.3.4' }],
      noMatch: [{ sourceIPAddress: '2001:db9::1' }, { sourceIPAddress: '10.0.0.1' }, { sourceIPAddress: '2001:db8::g' }],
    },
    {
      name: 'cidr with a prefix that is not a multiple of 8, and neq',
      detection: r`
        sel:
          ip|cidr|neq:
            - 172.16.0.0/12
            - 'fe80::/10'
        condition: sel`,
      match: [{ ip: '172.32.0.1' }, { ip: '8.8.8.8' }, { ip: 'fec0::1' }],
      noMatch: [{ ip: '172.31.255.255' }, { ip: '172.16.0.0' }, { ip: 'febf::1' }],
    },
  ],
  'specific modifiers': [
    {
      name: 'fieldref compares two fields of the record (SigmaHQ update-login-profile rule)',
      detection: r`
        sel:
          eventName: UpdateLoginProfile
        filter:
          userIdentity.arn|fieldref: requestParameters.userName
        condition: sel and not filter`,
      match: [{ eventName: 'UpdateLoginProfile', userIdentity: { arn: 'arn:aws:iam::1:user/alice' }, requestParameters: { userName: 'bob' } }],
      noMatch: [{ eventName: 'UpdateLoginProfile', userIdentity: { arn: 'bob' }, requestParameters: { userName: 'BOB' } }],
    },
    {
      name: 'fieldref with endswith, and with neq',
      detection: r`
        a:
          userIdentity.arn|fieldref|endswith: requestParameters.userName
        b:
          src|fieldref|neq: dst
        condition: a and b`,
      match: [{ userIdentity: { arn: 'arn:aws:iam::1:user/Alice' }, requestParameters: { userName: 'alice' }, src: 'a', dst: 'b' }],
      noMatch: [
        { userIdentity: { arn: 'arn:aws:iam::1:user/alice' }, requestParameters: { userName: 'bob' }, src: 'a', dst: 'b' },
        { userIdentity: { arn: 'arn:aws:iam::1:user/alice' }, requestParameters: { userName: 'alice' }, src: 'a', dst: 'A' },
        { userIdentity: { arn: 'arn:aws:iam::1:user/alice' }, src: 'a', dst: 'b' },
      ],
    },
    {
      name: 'expand replaces a placeholder with the values of --vars (wildcards allowed in them)',
      detection: r`
        sel:
          userIdentity.arn|expand: '%admins%'
        condition: sel`,
      vars: { admins: ['arn:aws:iam::1:role/Admin', 'arn:aws:iam::1:user/ops-*'] },
      match: [{ userIdentity: { arn: 'arn:aws:iam::1:role/admin' } }, { userIdentity: { arn: 'arn:aws:iam::1:user/ops-bob' } }],
      noMatch: [{ userIdentity: { arn: 'arn:aws:iam::1:user/dev-bob' } }, { userIdentity: { arn: '%admins%' } }],
    },
    {
      name: 'expand: \\% is a literal percent sign next to a placeholder',
      detection: r`
        sel:
          f|expand: '\%plain%name%'
        condition: sel`,
      vars: { name: ['X', 'Y'] },
      match: [{ f: '%plainx' }, { f: '%plainY' }],
      noMatch: [{ f: 'plainx' }, { f: '%plain%name%' }],
    },
    {
      name: 'expand with contains and cidr',
      detection: r`
        a:
          ua|expand|contains: '%tools%'
        b:
          ip|cidr|expand: '%nets%'
        condition: a and not b`,
      vars: { tools: ['terraform'], nets: ['10.0.0.0/8', '2001:db8::/32'] },
      match: [{ ua: 'APN/1.0 HashiCorp/1.0 Terraform/1.5.7', ip: '8.8.8.8' }],
      noMatch: [{ ua: 'Terraform', ip: '10.0.0.1' }, { ua: 'Terraform', ip: '2001:db8::5' }, { ua: 'aws-cli', ip: '8.8.8.8' }],
    },
  ],
  conditions: [
    {
      name: 'and binds tighter than or',
      detection: r`
        a:
          f: a
        b:
          g: b
        c:
          h: c
        condition: a or b and c`,
      match: [{ f: 'a' }, { g: 'b', h: 'c' }],
      noMatch: [{ g: 'b' }, { h: 'c' }],
    },
    {
      name: 'not binds tighter than and',
      detection: r`
        a:
          f: a
        b:
          g: b
        condition: not a and b`,
      match: [{ g: 'b' }],
      noMatch: [{ f: 'a', g: 'b' }, {}],
    },
    {
      name: 'brackets override precedence',
      detection: r`
        a:
          f: a
        b:
          g: b
        c:
          h: c
        condition: (a or b) and c`,
      match: [{ f: 'a', h: 'c' }, { g: 'b', h: 'c' }],
      noMatch: [{ f: 'a' }, { h: 'c' }],
    },
    {
      name: 'not of a bracket, double not, operators in any case',
      detection: r`
        a:
          f: a
        b:
          g: b
        condition: NOT (a OR b) And not not (not a)`,
      match: [{}],
      noMatch: [{ f: 'a' }, { g: 'b' }],
    },
    {
      name: '1 of a pattern',
      detection: r`
        selection_a:
          f: a
        selection_b:
          g: b
        other:
          h: c
        condition: 1 of selection_*`,
      match: [{ f: 'a' }, { g: 'b' }],
      noMatch: [{ h: 'c' }],
    },
    {
      name: 'all of a pattern',
      detection: r`
        selection_a:
          f: a
        selection_b:
          g: b
        condition: all of selection*`,
      match: [{ f: 'a', g: 'b' }],
      noMatch: [{ f: 'a' }, { g: 'b' }],
    },
    {
      name: 'a pattern with * in the middle',
      detection: r`
        sel_one_x:
          f: a
        sel_two_x:
          g: b
        sel_two_y:
          h: c
        condition: all of sel_*_x`,
      match: [{ f: 'a', g: 'b' }],
      noMatch: [{ f: 'a', h: 'c' }],
    },
    {
      name: '2 of a pattern: at least two of the matching identifiers',
      detection: r`
        selection_a:
          f: a
        selection_b:
          g: b
        selection_c:
          h: c
        other:
          i: d
        condition: 2 of selection_*`,
      match: [{ f: 'a', g: 'b' }, { g: 'b', h: 'c' }, { f: 'a', h: 'c' }, { f: 'a', g: 'b', h: 'c' }],
      noMatch: [{ f: 'a' }, { h: 'c', i: 'd' }, {}],
    },
    {
      name: 'N of them counts every identifier but those starting with _',
      detection: r`
        a:
          f: a
        b:
          g: b
        c:
          h: c
        _helper:
          i: d
        condition: 3 of them`,
      match: [{ f: 'a', g: 'b', h: 'c' }],
      noMatch: [{ f: 'a', g: 'b', i: 'd' }, { f: 'a', g: 'b' }],
    },
    {
      name: 'N of binds tighter than and/not, and N equal to the count is all of',
      detection: r`
        sel1:
          f: a
        sel2:
          g: b
        gate:
          h: c
        condition: gate and not 2 of sel*`,
      match: [{ h: 'c' }, { h: 'c', f: 'a' }],
      noMatch: [{ h: 'c', f: 'a', g: 'b' }, { f: 'a' }],
    },
    {
      name: '1 of them leaves out identifiers starting with _',
      detection: r`
        a:
          f: a
        _helper:
          g: b
        condition: 1 of them`,
      match: [{ f: 'a' }],
      noMatch: [{ g: 'b' }],
    },
    {
      name: 'all of them leaves out identifiers starting with _',
      detection: r`
        a:
          f: a
        b:
          g: b
        _never:
          h: never
        condition: all of them`,
      match: [{ f: 'a', g: 'b' }],
      noMatch: [{ f: 'a' }],
    },
    {
      name: 'an explicit pattern still reaches _ identifiers',
      detection: r`
        _x1:
          f: a
        condition: 1 of _x*`,
      match: [{ f: 'a' }],
      noMatch: [{}],
    },
    {
      name: '1 of X* and not 1 of filter*',
      detection: r`
        selection:
          eventName: PutBucketPolicy
        filter_main:
          userAgent|contains: terraform
        filter_optional:
          sourceIPAddress: 'AWS Internal'
        condition: selection and not 1 of filter*`,
      match: [{ eventName: 'PutBucketPolicy', userAgent: 'aws-cli' }],
      noMatch: [{ eventName: 'PutBucketPolicy', userAgent: 'Terraform/1.5' }, { eventName: 'PutBucketPolicy', sourceIPAddress: 'AWS Internal' }],
    },
    {
      name: 'a list of conditions is an OR',
      detection: r`
        a:
          f: a
        b:
          g: b
        condition:
          - a
          - b`,
      match: [{ f: 'a' }, { g: 'b' }],
      noMatch: [{}],
    },
  ],
};
