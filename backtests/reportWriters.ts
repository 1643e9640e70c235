import type * as ReportWritersModule from './html/writers.js';

type ReportWriters = typeof ReportWritersModule;

/** The HTML report writers, loaded only when a report is asked for (vega and arquero are large). */
export const loadReportWriters = (): Promise<ReportWriters> => import('./html/writers.js');
