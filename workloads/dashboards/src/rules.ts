/**
 * The Prometheus side of monitoring, as the tests and the e2e suites read it: the alert rules of
 * compose/prometheus/rules/ (one group per file), their promtool tests in compose/prometheus/tests/, and the
 * runbook sections of docs/runbooks.md their `runbook` annotations point at.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The repository root (this file is in workloads/dashboards/src or dist). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
export const PROMETHEUS_DIR = join(REPO_ROOT, 'compose', 'prometheus');
export const RULES_DIR = join(PROMETHEUS_DIR, 'rules');
export const RULE_TESTS_DIR = join(PROMETHEUS_DIR, 'tests');
export const RUNBOOKS_FILE = join(REPO_ROOT, 'docs', 'runbooks.md');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export interface RuleFile {
  /** File name in compose/prometheus/rules/. */
  file: string;
  groups: RuleGroup[];
}

const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort();

export function loadRuleFiles(dir = RULES_DIR): RuleFile[] {
  return yamlFiles(dir).map((file) => ({
    file,
    groups: (parse(readFileSync(join(dir, file), 'utf8')) as { groups: RuleGroup[] }).groups,
  }));
}

/** Every alerting and recording rule with the file and group it is in. */
export function allRules(dir = RULES_DIR): (Rule & { file: string; group: string })[] {
  return loadRuleFiles(dir).flatMap(({ file, groups }) =>
    groups.flatMap((group) => group.rules.map((rule) => ({ ...rule, file, group: group.name }))),
  );
}

export interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

export interface RuleTestFile {
  file: string;
  rule_files: string[];
  tests: { interval?: string; input_series: unknown[]; alert_rule_test?: AlertRuleTest[] }[];
}

export function loadRuleTests(dir = RULE_TESTS_DIR): RuleTestFile[] {
  return yamlFiles(dir).map((file) => ({
    file,
    ...(parse(readFileSync(join(dir, file), 'utf8')) as Omit<RuleTestFile, 'file'>),
  }));
}

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
export const headingAnchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** The anchors of the `##` sections of a Markdown file. */
export function sectionAnchors(file = RUNBOOKS_FILE): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('## '))
    .map((line) => headingAnchor(line.slice(3)));
}
