/**
 * Reads PromQL with Prometheus's own grammar (`@prometheus-io/lezer-promql`, the parser of Prometheus's
 * web UI): the metric names an expression selects, and where it does not parse.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface PromqlReading {
  /** Metric names selected (`name{...}` and `{__name__="name"}`), each once, sorted. */
  metrics: string[];
  /** Offsets where the expression does not parse (empty when it does). */
  errors: number[];
  /** Selectors whose metric name is not a literal (a `__name__` regex): their names cannot be checked. */
  unnamed: string[];
}

const unquote = (literal: string): string => {
  const quote = literal[0];
  if (quote === '`') return literal.slice(1, -1);
  return JSON.parse(quote === "'" ? `"${literal.slice(1, -1).replace(/"/g, '\\"')}"` : literal) as string;
};

export function readPromql(expr: string): PromqlReading {
  const metrics = new Set<string>();
  const errors: number[] = [];
  const unnamed: string[] = [];
  const tree = parser.parse(expr);
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name !== 'VectorSelector') return;
      const selector = node.node;
      const identifier = selector.getChild('Identifier');
      if (identifier) {
        metrics.add(text(identifier.from, identifier.to));
        return;
      }
      let named = false;
      const matchers = selector.getChild('LabelMatchers');
      for (const matcher of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = matcher.getChild('LabelName');
        const op = matcher.getChild('MatchOp');
        const value = matcher.getChild('StringLiteral');
        if (!label || !op || !value || text(label.from, label.to) !== '__name__') continue;
        if (text(op.from, op.to) === '=') {
          metrics.add(unquote(text(value.from, value.to)));
          named = true;
        }
      }
      if (!named) unnamed.push(text(selector.from, selector.to));
    },
  });
  return { metrics: [...metrics].sort(), errors, unnamed };
}
