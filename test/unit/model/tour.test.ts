// The tour's pure parts: every chapter podnet ships parses and names only facts its lab has; a chapter
// with a mistake is refused with one line naming the file and the field; answers compare as people
// type them; placeholders fill; progress moves as a learner goes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseChapter } from '../../../src/model/tour/chapter.js';
import { answerMatches, normalizeAnswer } from '../../../src/model/tour/answer.js';
import { factPattern, fill, knownFacts, splitCommand } from '../../../src/model/tour/template.js';
import { chapterFinished, emptyProgress, nextChapter, parseProgress, restart, statusOf, stepDone, withChapter } from '../../../src/model/tour/progress.js';

const TOUR = fileURLToPath(new URL('../../../../tour/', import.meta.url));

const GOOD = `
title: T
intro: about {lab}
steps:
  - kind: run
    title: S
    explain: see {pod1.veth}
    command: ip -n {server.netns} link
    highlight: ['{pod1.veth}@if\\d+']
    question:
      ask: which?
      check: { kind: host-veth, pod: pod1 }
      hint: look
summary: [done]
`;

/** GOOD with one line replaced. */
const bad = (from: string, to: string) => { assert.ok(GOOD.includes(from)); return GOOD.replace(from, to); };
const refused = (source: string) => {
  try {
    parseChapter('tour/99-x.yaml', source, 99);
  } catch (e) {
    const m = (e as Error).message;
    assert.ok(!m.includes('\n'), m);
    return m;
  }
  assert.fail('accepted');
};

describe('chapters', () => {
  test('every chapter shipped in tour/ parses, numbered in file order', () => {
    const files = readdirSync(TOUR).filter((f) => f.endsWith('.yaml')).sort();
    assert.ok(files.length >= 6, files.join());
    files.forEach((f, i) => {
      const c = parseChapter(`tour/${f}`, readFileSync(join(TOUR, f), 'utf8'), i + 1);
      assert.equal(c.number, i + 1);
      assert.ok(c.steps.length > 0 && c.summary.length > 0);
    });
  });

  test('a good chapter parses with defaults', () => {
    const c = parseChapter('tour/99-x.yaml', GOOD, 99);
    assert.deepEqual([c.lab.nodes, c.lab.pods, c.steps[0].status, c.steps[0].question?.inOutput, c.steps[0].question?.predict], [1, 2, 0, true, false]);
  });

  test('mistakes are refused with one line naming the file and the field', () => {
    assert.equal(refused(bad('kind: run', 'kind: shell')), 'tour/99-x.yaml: steps[0].kind: unknown step kind "shell" (use run or read)');
    assert.match(refused(bad('kind: host-veth', 'kind: magic')), /^tour\/99-x\.yaml: steps\[0\]\.question\.check\.kind: unknown check "magic" \(one of host-veth, /);
    assert.equal(refused(bad('pod: pod1 }', 'pod: pod7 }')), 'tour/99-x.yaml: steps[0].question.check.pod: "pod7" is not in this chapter\'s lab (pod1, pod2), so the check cannot be evaluated');
    assert.equal(refused(bad('{ kind: host-veth, pod: pod1 }', '{ kind: host-veth }')), 'tour/99-x.yaml: steps[0].question.check.pod: check "host-veth" needs pod (a string)');
    assert.equal(refused(bad('{ kind: host-veth, pod: pod1 }', '{ kind: host-veth, pod: pod1, node: server }')), 'tour/99-x.yaml: steps[0].question.check.node: check "host-veth" takes no "node" (it takes pod)');
    assert.match(refused(bad('see {pod1.veth}', 'see {pod1.vet}')), /^tour\/99-x\.yaml: steps\[0\]\.explain: \{pod1\.vet\} is not a fact of this chapter's lab/);
    assert.match(refused(bad('{server.netns}', '{agent1.netns}')), /^tour\/99-x\.yaml: steps\[0\]\.command: \{agent1\.netns\} is not a fact/);
    assert.match(refused(bad("highlight: ['{pod1.veth}@if\\d+']", "highlight: ['(']")), /^tour\/99-x\.yaml: steps\[0\]\.highlight\[0\]: not a regular expression/);
    assert.match(refused(bad('    command: ip -n {server.netns} link\n', '')), /steps\[0\]\.command: a run step needs the command/);
    assert.match(refused(bad('summary: [done]', 'summary: []')), /^tour\/99-x\.yaml: summary: /);
    assert.match(refused(bad('title: T', 'title: T\ncolour: red')), /^tour\/99-x\.yaml: : Unrecognized key|^tour\/99-x\.yaml: .*colour/);
    assert.match(refused('title: [unclosed'), /^tour\/99-x\.yaml: not valid YAML/);
  });
});

describe('answers, placeholders, commands', () => {
  test('answers compare as typed: case, spaces, @ifN, leading zeros, a choice by its number', () => {
    assert.equal(normalizeAnswer(' VethAB12@if2 '), 'vethab12');
    assert.ok(answerMatches('vethab12@if2', ['vethab12']));
    assert.ok(answerMatches('007', ['7']));
    assert.ok(answerMatches('2', ['vethb'], ['vetha', 'vethb']));
    assert.ok(!answerMatches('1', ['vethb'], ['vetha', 'vethb']));
    assert.ok(answerMatches('10.42.0.1', ['10.42.0.1/24']));
    assert.ok(!answerMatches('', ['x']));
    assert.ok(!answerMatches('10.42.0.10', ['10.42.0.1']));
  });

  test('placeholders fill from facts, escaped inside patterns; unknown ones stay visible', () => {
    const facts = { 'pod1.ip': '10.42.0.2', lab: 'tour' };
    assert.equal(fill('ping {pod1.ip} in {lab} {pod9.ip}', facts), 'ping 10.42.0.2 in tour {pod9.ip}');
    assert.ok(factPattern('inet {pod1.ip}/24', facts).test('inet 10.42.0.2/24'));
    assert.ok(!factPattern('inet {pod1.ip}/24', facts).test('inet 10.42.0x2/24'));
    assert.ok(knownFacts(['server'], ['pod1']).has('pod1.vethIndex'));
  });

  test('a command splits into words as a shell would, quotes kept together', () => {
    assert.deepEqual(splitCommand(`podnet exec pod1 -- sh -c 'echo a  b' ""`), ['podnet', 'exec', 'pod1', '--', 'sh', '-c', 'echo a  b', '']);
    assert.throws(() => splitCommand(`echo 'x`), /unclosed/);
  });
});

describe('progress', () => {
  test('steps advance, first tries are kept, a finished chapter starts again, restart clears', () => {
    let c = stepDone(stepDone({ step: 0, firstTry: [], answered: [] }, 0, { firstTry: true }), 1, { firstTry: false });
    assert.deepEqual(c, { step: 2, firstTry: [0], answered: [0, 1] });
    assert.equal(statusOf(c, 5), 'at step 3/5');
    c = chapterFinished(c, 't');
    assert.equal(statusOf(c, 5), 'done');
    assert.deepEqual(restart(c), { step: 0, firstTry: [], answered: [], finishedAt: 't' });
    assert.equal(statusOf(undefined, 5), 'new');
  });

  test('the next chapter is the one in progress, else the first not done; a damaged file is no progress', () => {
    const files = [{ file: 'a', steps: 3 }, { file: 'b', steps: 3 }, { file: 'c', steps: 3 }];
    let p = withChapter(emptyProgress(), 'a', { step: 0, firstTry: [], answered: [], finishedAt: 't' });
    assert.equal(nextChapter(p, files), 1);
    p = withChapter(p, 'c', { step: 1, firstTry: [], answered: [] });
    assert.equal(nextChapter(p, files), 2);
    assert.deepEqual(parseProgress('{oops'), emptyProgress());
    assert.deepEqual(parseProgress(JSON.stringify(p)), p);
  });
});
