/**
 * Every PromQL query a dashboard sends, and how to send it to Prometheus without Grafana: Grafana's
 * variables (`$__rate_interval`, `$node`) replaced by what Grafana would send, `label_values(selector, label)`
 * by its selector.
 */
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';

export interface PanelQuery {
  dashboard: string;
  /** Panel title, or `variable <name>` for a variable's query. */
  panel: string;
  refId: string;
  /** The query as Grafana has it, variables included. */
  expr: string;
}

const isRow = (panel: Panel | RowPanel): panel is RowPanel => panel.type === 'row';

function variableQuery(variable: VariableModel): string | undefined {
  const query = variable.query;
  if (typeof query === 'string') return query;
  if (query && typeof query === 'object' && typeof query.query === 'string') return query.query;
  return undefined;
}

/** The queries of every panel (rows' panels included) and of every query variable of `dashboard`. */
export function dashboardQueries(dashboard: Dashboard): PanelQuery[] {
  const title = dashboard.title ?? dashboard.uid ?? '';
  const panels = (dashboard.panels ?? []).flatMap((p) => (isRow(p) ? (p.panels ?? []) : [p]));
  const queries: PanelQuery[] = [];
  for (const panel of panels) {
    // A panel's targets are typed per datasource; ours are all Prometheus queries (expr, refId).
    for (const target of (panel.targets ?? []) as { expr?: unknown; refId?: unknown }[]) {
      if (typeof target.expr === 'string')
        queries.push({
          dashboard: title,
          panel: panel.title ?? '',
          refId: String(target.refId ?? ''),
          expr: target.expr,
        });
    }
  }
  for (const variable of dashboard.templating.list ?? []) {
    const expr = variableQuery(variable);
    if (variable.type === 'query' && expr !== undefined)
      queries.push({ dashboard: title, panel: `variable ${variable.name}`, refId: 'variable', expr });
  }
  return queries;
}

/** The names of `dashboard`'s variables with the value Grafana sends for "All". */
export function variableValues(dashboard: Dashboard): Record<string, string> {
  const values: Record<string, string> = {};
  for (const variable of dashboard.templating.list ?? []) values[variable.name] = variable.allValue ?? '.+';
  return values;
}

/**
 * `expr` as Grafana sends it: `$__rate_interval` (and `${__rate_interval}`) become `rateInterval`, each
 * dashboard variable its "All" value, and `label_values(selector, label)` its selector.
 */
export function expandQuery(expr: string, variables: Record<string, string>, rateInterval: string): string {
  const labelValues = /^\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/s.exec(expr);
  let out = labelValues ? labelValues[1]! : expr;
  out = out.replace(/\$\{__rate_interval\}|\$__rate_interval/g, rateInterval);
  out = out.replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}|\$([a-zA-Z_][a-zA-Z0-9_]*)/g, (all, braced, bare) => {
    const name = (braced ?? bare) as string;
    const value = variables[name];
    if (value === undefined) throw new Error(`${expr}: no dashboard variable named ${name}`);
    return value;
  });
  return out;
}
