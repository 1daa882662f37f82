// What report.html shows, as plain data: the page is rendered from this model, never from a run
// record directly, so the record's schema can grow without touching the HTML, and the model is
// what tests inspect. Charts carry their series; the x values are shared arrays in `axes` (every
// chart of one run uses the same seconds-since-start), which keeps the embedded JSON small.

export type Cell = string | number | null;

export interface Table {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Optional class per row (e.g. `fail` for a failed invariant), same length as rows. */
  readonly rowClasses?: readonly (string | undefined)[];
  /** A two-column key/value table whose long values wrap (configuration, environment). */
  readonly keyValue?: boolean;
}

export interface ChartSeries {
  readonly label: string;
  /** One value per x; null where the interval had no data (drawn as a gap). */
  readonly values: readonly (number | null)[];
}

/** How a bucket of points becomes one row of the table under a chart. */
export type Reduce = 'max' | 'mean';

export interface Chart {
  readonly id: string;
  readonly title: string;
  /** The y axis's unit, e.g. "ms", "messages/s", "messages", "s". */
  readonly unit: string;
  /** What x counts, when not seconds since the run started (e.g. "Spanner nodes" on a capacity plan's curve). */
  readonly xLabel?: string;
  /** Index into ReportModel.axes: the x values (seconds since the run started, unless xLabel says otherwise). */
  readonly x: number;
  readonly series: readonly ChartSeries[];
  readonly reduce: Reduce;
  /**
   * Join a line across null points. Latency charts mark intervals with no data by an explicit
   * null (a real gap); timelines sampled at different instants share a union x axis, where a
   * null only means "not sampled here".
   */
  readonly spanGaps: boolean;
}

export interface ChartGroup {
  readonly title: string;
  readonly note?: string;
  readonly charts: readonly Chart[];
}

export interface RunSection {
  /** The run or variant's name, as given (escaped when rendered). */
  readonly name: string;
  readonly subtitle: string;
  readonly isBaseline: boolean;
  readonly chartGroups: readonly ChartGroup[];
  /** Tables in order: stage breakdown, invariants, optional sections, configuration, environment. */
  readonly tables: readonly Table[];
}

export interface Comparison {
  readonly title: string;
  /** One sentence on what was compared and how the intervals were computed. */
  readonly method: string;
  readonly table: Table;
}

export interface ReportModel {
  readonly title: string;
  readonly summary: readonly string[];
  readonly comparisons: readonly Comparison[];
  readonly runs: readonly RunSection[];
  readonly axes: readonly (readonly number[])[];
}
