/**
 * The few panel shapes our dashboards use, on top of the Grafana Foundation SDK builders: a time series, a
 * stat, a query. Every panel reads the provisioned Prometheus datasource (uid `prometheus`,
 * compose/grafana/provisioning/datasources/prometheus.yml).
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** The datasource every panel and variable reads (its uid is fixed by the provisioning file). */
export const DATASOURCE: dashboard.DataSourceRef = { type: 'prometheus', uid: 'prometheus' };

/** Grafana's rate window for the scrape interval in use (at least four scrapes). */
export const RATE = '$__rate_interval';

export interface Query {
  expr: string;
  /** Legend template (`{{instance}}`); the series' labels when absent. */
  legend?: string;
}

export interface PanelOptions {
  title: string;
  /** What the panel shows and what a person should make of it (shown as the panel's tooltip). */
  description: string;
  /** A Grafana unit id: `ops`, `ms`, `s`, `bytes`, `percentunit`, `short`, ... */
  unit: string;
  queries: Query[];
  /** Width on the 24-column grid. */
  span?: number;
  height?: number;
  min?: number;
  max?: number;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function target(query: Query, index: number): prometheus.DataqueryBuilder {
  const builder = new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .refId(LETTERS[index] ?? `Q${index}`)
    .expr(query.expr)
    .range();
  return query.legend === undefined ? builder : builder.legendFormat(query.legend);
}

function common_<T extends timeseries.PanelBuilder | stat.PanelBuilder>(
  builder: T,
  options: PanelOptions,
): T {
  builder
    .title(options.title)
    .description(options.description)
    .datasource(DATASOURCE)
    .unit(options.unit)
    .span(options.span ?? 12)
    .height(options.height ?? 8);
  if (options.min !== undefined) builder.min(options.min);
  if (options.max !== undefined) builder.max(options.max);
  options.queries.forEach((query, i) => builder.withTarget(target(query, i)));
  return builder;
}

export function timeSeries(options: PanelOptions): timeseries.PanelBuilder {
  return common_(new timeseries.PanelBuilder(), options)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi));
}

export interface StatOptions extends PanelOptions {
  /** Value → text (and colour), e.g. `{ 0: ['running', 'green'], 1: ['HALTED', 'red'] }`. */
  mappings?: Record<string, [text: string, color: string]>;
  /** Colour from these values up: `[[null, 'green'], [1, 'red']]` (the first step has no lower bound). */
  thresholds?: [value: number | null, color: string][];
}

export function statPanel(options: StatOptions): stat.PanelBuilder {
  const builder = common_(new stat.PanelBuilder(), { span: 6, height: 5, ...options })
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (options.mappings) {
    const entries = Object.entries(options.mappings).map(([value, [text, color]], index) => [
      value,
      { text, color, index },
    ]);
    builder.mappings([{ type: dashboard.MappingType.ValueToText, options: Object.fromEntries(entries) }]);
  }
  if (options.thresholds) {
    builder.thresholds(
      new dashboard.ThresholdsConfigBuilder()
        .mode(dashboard.ThresholdsMode.Absolute)
        .steps(options.thresholds.map(([value, color]) => ({ value, color }))),
    );
  }
  return builder;
}

/** A variable listing the values of `label` on the series `selector` (multi-select, with All = any). */
export function labelVariable(
  name: string,
  label: string,
  selector: string,
  title: string,
): dashboard.QueryVariableBuilder {
  const query = `label_values(${selector}, ${label})`;
  return new dashboard.QueryVariableBuilder(name)
    .label(title)
    .datasource(DATASOURCE)
    .query({ query, refId: 'variable' })
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** The dashboard around the panels: title, uid, tags, time range, refresh, the DSM dashboards' links. */
export function dsmDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['dsm'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .link(
      new dashboard.DashboardLinkBuilder('DSM dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['dsm'])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    );
}

export const row = (title: string) => new dashboard.RowBuilder(title);

/**
 * The dashboard schema version written: Grafana 12.1's latest (41), so the compose stack's Grafana 12.1 loads
 * the files without migrating them, and newer ones migrate them. The SDK writes 42, whose only migration
 * (hideFrom.viz implies hideFrom.tooltip in field overrides) concerns nothing our panels use.
 */
export const SCHEMA_VERSION = 41;

/** Builds the dashboard at SCHEMA_VERSION and numbers its panels (and rows) 1, 2, ... in order. */
export function finish(builder: dashboard.DashboardBuilder): dashboard.Dashboard {
  const built = builder.build();
  built.schemaVersion = SCHEMA_VERSION;
  built.panels?.forEach((panel, i) => (panel.id = i + 1));
  return built;
}
